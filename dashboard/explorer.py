"""Sensor series for any window, reduced on the server to about the chart's width: raw, MinMaxLTTB or an envelope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from dashboard import downsample, queries

RAW_FACTOR = 20  # up to this many raw readings per pixel column are read and reduced with MinMaxLTTB
LEVEL_FACTOR = 8  # a rollup level is used when it has at most this many rows per pixel column


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


def _ms(ts: pd.Series) -> np.ndarray:
    # Through datetime64[ms] explicitly: pandas may hold times in ns or us depending on where they came from.
    return pd.to_datetime(ts, utc=True).dt.tz_localize(None).to_numpy(dtype="datetime64[ms]").astype(np.int64)


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


def series(engine: Engine, sensor: dict, start: datetime, end: datetime, width_px: int) -> Series:
    """The window [start, end) of one sensor at about ``width_px`` points; every choice made from the request alone."""
    n_out = max(100, 2 * width_px)
    count = queries.sensor_count(engine, sensor["sensor_id"], start, end)
    lo_lim, hi_lim = sensor.get("lo_limit"), sensor.get("hi_limit")
    lo_lim = None if lo_lim is None or pd.isna(lo_lim) else float(lo_lim)
    hi_lim = None if hi_lim is None or pd.isna(hi_lim) else float(hi_lim)
    empty = np.array([])
    if count <= RAW_FACTOR * width_px:
        raw = queries.sensor_raw(engine, sensor["sensor_id"], start, end)
        x, y = _ms(raw["ts"]), raw["value"].to_numpy(dtype=float)
        gaps = downsample.gap_starts(x, min_step=5_000)  # found on the raw readings, before any reduction
        label = "raw"
        if len(x) > n_out:
            x, y = downsample.minmax_lttb(x, y, n_out)
            label = f"MinMaxLTTB of {len(raw):,} readings"
        ax, ay = _alarms(x, y, y, lo_lim, hi_lim)
        gx, gy = downsample.insert_breaks(x, y, gaps)
        return Series(gx, gy, empty, empty, ax, ay, label, len(raw))
    span_s = (end - start).total_seconds()
    bucket_s = max(1.0, span_s / width_px)
    level = next(
        (
            rel
            for rel, secs, _ in queries.SENSOR_LEVELS
            if span_s / secs <= LEVEL_FACTOR * width_px and bucket_s >= secs
        ),
        queries.SENSOR_LEVELS[-1][0],
    )
    bucket_s = max(bucket_s, dict((r, s) for r, s, _ in queries.SENSOR_LEVELS)[level])
    env = queries.sensor_envelope(engine, sensor["sensor_id"], start, end, bucket_s, level)
    x = _ms(env["bucket"])
    full = np.arange(x[0], x[-1] + 1, int(bucket_s * 1000)) if len(x) else x
    frame = pd.DataFrame({"x": full}).merge(env.assign(x=x), on="x", how="left")  # missing buckets are gaps
    ax, ay = _alarms(x, env["min"].to_numpy(), env["max"].to_numpy(), lo_lim, hi_lim)
    label = f"mean, min–max per {downsample.bucket_label(bucket_s)}"
    return Series(
        frame["x"].to_numpy(),
        frame["mean"].to_numpy(),
        frame["min"].to_numpy(),
        frame["max"].to_numpy(),
        ax,
        ay,
        label,
        count,
    )
