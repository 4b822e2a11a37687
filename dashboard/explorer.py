"""Sensor series for any window, reduced on the server to about the chart's width: raw, MinMaxLTTB or an envelope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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
    label: str  # how the line was drawn, for the legend: 'every reading', 'peaks kept', 'mean, min–max per 5 min'
    points_in_window: int
    note: str = ""  # said in the readout: why a window is empty, or that it shows the nearest readings
    changes: tuple = ()  # (epoch ms, seconds between readings before, after): where the sampling rate changes


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
        if len(raw) < 2:  # a window between two sparse readings (older ones are minutes apart): draw the nearest
            return _nearest(engine, sid, start, end, raw, width_px, limits)
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


NEAREST_S = 1800  # how far either side of an empty window to look for the nearest readings


def _nearest(engine: Engine, sid: int, start: datetime, end: datetime, raw: np.ndarray, width: int, limits: tuple):  # noqa: ANN202
    """A window with fewer than two readings: add the nearest reading on either side, so the line crosses the
    window (and the readout says so) instead of a blank chart that reads '0 points drawn for 0 readings'."""
    pad = timedelta(seconds=NEAREST_S)
    before = tiles.TILES.rows(engine, sid, tiles.RAW, start - pad, start)
    after = tiles.TILES.rows(engine, sid, tiles.RAW, end, end + pad)
    around = [r for r in (before[-1:], raw, after[:1]) if len(r)]
    rows = np.concatenate(around) if around else raw
    if len(rows) < 2:
        s = _raw_series(rows, width, limits) if len(rows) else _empty_series()
        s.note = f"no readings within {NEAREST_S // 60} min of this window"
        s.points_in_window = len(raw)
        return s
    s = _raw_series(rows, width, limits)
    step = downsample.bucket_label(float(np.diff(rows[:, 0]).max()) / 1000)
    s.label, s.points_in_window = "nearest readings", len(raw)
    s.note = f"readings here are {step} apart, so the line joins the nearest ones on either side"
    return s


def _empty_series() -> Series:
    e = np.array([])
    return Series(e.astype(np.int64), e, e, e, e.astype(np.int64), e, "every reading", 0)


def sampling_changes(x: np.ndarray, k: int = 5, ratio: float = 10.0) -> list[tuple[int, float, float]]:
    """Where readings change rate for good (5 min apart, then every second): (epoch ms, s before, s after).

    Compares the median step of the ``k`` steps before and after each reading, so a single stop (a gap) is not a
    change, and a run of boundaries around one change counts once."""
    if len(x) < 2 * k + 1:
        return []
    d = np.diff(x).astype(float)
    win = np.lib.stride_tricks.sliding_window_view(d, k)
    med = np.median(win, axis=1)  # med[i]: median of steps i .. i+k-1
    before, after = med[: len(med) - k], med[k:]  # at reading i+k: steps before it, and from it on
    hit = np.flatnonzero(np.maximum(before, after) >= ratio * np.minimum(before, after))
    out: list[tuple[int, float, float]] = []
    for i in hit:
        if out and x[i + k] - out[-1][0] < 2 * k * max(before[i], after[i]):
            continue
        # The medians flip a step or two early: mark the first reading of the new rate (or the last of the old).
        near = np.arange(max(i, 0), min(i + 2 * k, len(d)))
        if after[i] < before[i]:
            at = near[d[near] <= 3 * after[i]]
            j = int(at[0]) if len(at) else i + k
        else:
            at = near[d[near] >= after[i] / 3]
            j = int(at[0]) if len(at) else i + k
        out.append((int(x[j]), float(before[i]) / 1000, float(after[i]) / 1000))
    return out


def gaps(x: np.ndarray, y: np.ndarray, min_ms: float) -> list[tuple[int, int]]:
    """(last drawn x, next drawn x) around every break in the line (NaN) spanning at least ``min_ms``."""
    nan = np.isnan(y)
    if not nan.any() or nan.all():
        return []
    edges = np.flatnonzero(np.diff(np.r_[False, nan, False].astype(int)))
    out = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):  # NaN run [a, b)
        if a == 0 or b >= len(x):
            continue
        if x[b] - x[a - 1] >= min_ms:
            out.append((int(x[a - 1]), int(x[b])))
    return out


def _raw_series(raw: np.ndarray, width_px: int, limits: tuple) -> Series:
    n_out = max(100, 2 * width_px)
    x, y = raw[:, 0].astype(np.int64), np.ascontiguousarray(raw[:, 1])
    gaps = downsample.gap_starts(x, min_step=5_000)  # found on the raw readings, before any reduction
    changes = tuple(sampling_changes(x))
    label = "every reading"
    if len(x) > n_out:
        x, y = downsample.minmax_lttb(x, y, n_out)
        label = "reduced, peaks kept"
    ax, ay = _alarms(x, y, y, *limits)
    gx, gy = downsample.insert_breaks(x, y, gaps)
    empty = np.array([])
    return Series(gx, gy, empty, empty, ax, ay, label, len(raw), changes=changes)


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
