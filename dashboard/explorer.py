"""Sensor series for any window, reduced on the server to about the chart's width: raw, MinMaxLTTB or an envelope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from dashboard import downsample, queries, tiles

RAW_FACTOR = 4  # up to this many raw readings per pixel column are read and reduced with MinMaxLTTB


@dataclass
class Series:
    """One sensor's traces for a window: an envelope (lo, hi) when aggregated, the main line, out-of-limit points."""

    x: np.ndarray  # epoch ms
    y: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    alarm_x: np.ndarray
    alarm_y: np.ndarray
    label: str  # e.g. 'raw', 'MinMaxLTTB of 18,000 readings', 'min–max per 5 min'
    points_in_window: int


def _alarms(x: np.ndarray, lo_y: np.ndarray, hi_y: np.ndarray, lo_limit: float | None, hi_limit: float | None):  # noqa: ANN202
    """Points beyond a limit, taken from the extremes so that a spike inside a bucket still shows."""
    xs, ys = [], []
    if hi_limit is not None:
        over = hi_y > hi_limit
        xs.append(x[over])
        ys.append(hi_y[over])
    if lo_limit is not None:
        under = lo_y < lo_limit
        xs.append(x[under])
        ys.append(lo_y[under])
    if not xs:
        return np.array([], dtype=np.int64), np.array([])
    return np.concatenate(xs), np.concatenate(ys)


def series(
    engine: Engine, sensor: dict, start: datetime, end: datetime, width_px: int, raw_from: datetime | None = None
) -> Series:
    """The window [start, end) of one sensor at about ``width_px`` points; every choice made from the request alone.

    A short window draws raw readings (at most ``RAW_FACTOR`` per pixel, reduced with MinMaxLTTB), a long one a
    per-pixel envelope folded from the coarsest level no wider than a pixel. Both read cached tiles. A window
    reaching before ``raw_from`` (raw readings deleted by retention) is drawn from the rollup levels only.
    """
    has_raw = raw_from is None or start >= raw_from
    limits = tuple(
        None if v is None or pd.isna(v) else float(v) for v in (sensor.get("lo_limit"), sensor.get("hi_limit"))
    )
    sid, limit = int(sensor["sensor_id"]), RAW_FACTOR * width_px
    if (
        has_raw and (end - start).total_seconds() <= limit
    ):  # readings are at most 1 Hz in the usual case; the count checks it
        raw = tiles.TILES.rows(engine, sid, tiles.RAW, start, end)
        if len(raw) <= limit:
            return _raw_series(raw, width_px, limits)
    bucket_s = max(1.0, (end - start).total_seconds() / width_px)
    # The coarsest level no wider than a pixel column: fewest rows read, extremes smeared by at most one level bucket.
    levels = queries.SENSOR_LEVELS if has_raw else queries.SENSOR_LEVELS[1:]
    level, secs = ([(rel, s) for rel, s in levels if s <= bucket_s] or levels[:1])[-1]
    bucket_s = max(bucket_s, secs)
    env = tiles.envelope(tiles.TILES.rows(engine, sid, level, start, end), bucket_s)
    count = int(env[:, 4].sum())
    if has_raw and count <= limit:  # sparse data: the readings themselves are few enough to draw
        return _raw_series(tiles.TILES.rows(engine, sid, tiles.RAW, start, end), width_px, limits)
    return _envelope_series(env, bucket_s, limits, count)


def _raw_series(raw: np.ndarray, width_px: int, limits: tuple) -> Series:
    n_out = max(100, 2 * width_px)
    x, y = raw[:, 0].astype(np.int64), np.ascontiguousarray(raw[:, 1])
    gaps = downsample.gap_starts(x, min_step=5_000)  # found on the raw readings, before any reduction
    label = "raw"
    if len(x) > n_out:
        x, y = downsample.minmax_lttb(x, y, n_out)
        label = f"MinMaxLTTB of {len(raw):,} readings"
    ax, ay = _alarms(x, y, y, *limits)
    gx, gy = downsample.insert_breaks(x, y, gaps)
    empty = np.array([])
    return Series(gx, gy, empty, empty, ax, ay, label, len(raw))


def _envelope_series(env: np.ndarray, bucket_s: float, limits: tuple, count: int) -> Series:
    x, lo, hi, mean = env[:, 0].astype(np.int64), env[:, 1], env[:, 2], env[:, 3]
    ax, ay = _alarms(x, lo, hi, *limits)
    # Missing buckets are gaps: every bucket position gets a value, NaN where nothing was read.
    step = int(round(bucket_s * 1000))
    full = np.arange(x[0], x[-1] + 1, step) if len(x) else x
    pos = ((x - x[0]) // step).astype(np.int64) if len(x) else x
    out = {k: np.full(len(full), np.nan) for k in ("mean", "lo", "hi")}
    for k, v in (("mean", mean), ("lo", lo), ("hi", hi)):
        out[k][pos] = v
    label = f"mean, min–max per {downsample.bucket_label(bucket_s)}"
    return Series(full, out["mean"], out["lo"], out["hi"], ax, ay, label, count)
