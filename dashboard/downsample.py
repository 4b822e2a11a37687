"""Reduce a series to about the chart's pixel width without losing its peaks, and break lines at gaps."""

from __future__ import annotations

import numpy as np
from tsdownsample import MinMaxLTTBDownsampler

_MINMAX_LTTB = MinMaxLTTBDownsampler()


def minmax_lttb(x: np.ndarray, y: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``n_out`` points of (x, y) chosen by MinMaxLTTB; the series itself when it is short enough.

    Parameters
    ----------
    x : int64 epoch nanoseconds (or any increasing integers)
    y : float64 values, no NaN (gaps are added afterwards by ``insert_gaps``)
    """
    if len(x) <= n_out:
        return x, y
    if n_out < 4:
        raise ValueError("n_out must be at least 4")
    idx = _MINMAX_LTTB.downsample(x, y, n_out=n_out).astype(np.int64)
    return x[idx], y[idx]


def minmax(x: np.ndarray, y: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """The minimum and the maximum of each of ``n_out / 2`` equal-count buckets: every bucket's extremes survive."""
    if len(x) <= n_out:
        return x, y
    edges = np.linspace(0, len(x), n_out // 2 + 1).astype(np.int64)
    picks = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if b > a:
            seg = y[a:b]
            picks += sorted({a + int(np.argmin(seg)), a + int(np.argmax(seg))})
    idx = np.array(picks, dtype=np.int64)
    return x[idx], y[idx]


def insert_gaps(x: np.ndarray, y: np.ndarray, max_step: float) -> tuple[np.ndarray, np.ndarray]:
    """Put a NaN after every step longer than ``max_step``, so the line breaks where the data stops."""
    if len(x) < 2:
        return x, y.astype(float)
    breaks = np.flatnonzero(np.diff(x) > max_step)
    if not len(breaks):
        return x, y.astype(float)
    xs = np.insert(x, breaks + 1, x[breaks] + 1)
    ys = np.insert(y.astype(float), breaks + 1, np.nan)
    return xs, ys


def gap_threshold(x: np.ndarray, factor: float = 4.0) -> float:
    """A step longer than ``factor`` times the typical (median) step is a gap."""
    if len(x) < 3:
        return float("inf")
    return float(np.median(np.diff(x)) * factor)


def bucket_label(seconds: float) -> str:
    """'1 s', '5 min', '2 h', '1 d': how wide each drawn point is, for the legend."""
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"
