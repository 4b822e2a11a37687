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


def gap_starts(x: np.ndarray, factor: float = 4.0, min_step: float = 0.0) -> np.ndarray:
    """Where the sampling stops: x values after which the next step is ``factor`` times longer than the steps
    around it (and longer than ``min_step``). Local, so a series sampled every 5 min and then every 1 s has
    no false gaps where the spacing changes."""
    if len(x) < 3:
        return x[:0]
    d = np.diff(x).astype(float)
    before = np.r_[d[0], d[:-1]]
    after = np.r_[d[1:], d[-1]]
    local = np.maximum(before, after)
    is_gap = (d > factor * local) & (d > min_step)
    return x[:-1][is_gap]


def insert_breaks(x: np.ndarray, y: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Put a NaN between two drawn points whenever a gap of the raw data starts between them."""
    y = y.astype(float)
    if len(x) < 2 or not len(starts):
        return x, y
    starts = np.sort(starts)
    # a gap starting at g lies between x[j] and x[j+1] when x[j] <= g < x[j+1]
    between = np.searchsorted(starts, x[1:], side="left") - np.searchsorted(starts, x[:-1], side="left") > 0
    at = np.flatnonzero(between) + 1
    return np.insert(x, at, x[at - 1] + 1), np.insert(y, at, np.nan)


def insert_gaps(x: np.ndarray, y: np.ndarray, max_step: float) -> tuple[np.ndarray, np.ndarray]:
    """Put a NaN after every step longer than ``max_step``, so the line breaks where the data stops."""
    if len(x) < 2:
        return x, y.astype(float)
    return insert_breaks(x, y, x[:-1][np.diff(x) > max_step])


def bucket_label(seconds: float) -> str:
    """'1 s', '5 min', '2 h', '1 d': how wide each drawn point is, for the legend."""
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"
