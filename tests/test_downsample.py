"""Downsampling keeps every bucket's extremes, never exceeds the size asked for, and breaks lines at gaps."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard import downsample


def _series(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.integers(1, 3, n)).astype(np.int64) * 1_000_000_000
    y = np.sin(np.arange(n) / 500) + rng.normal(0, 0.2, n)
    y[rng.integers(0, n, 5)] += 8  # spikes that must survive
    return x, y


@pytest.mark.parametrize("n", [10_000, 100_000, 1_000_003])
@pytest.mark.parametrize("n_out", [100, 1000, 2400])
@pytest.mark.parametrize("seed", [1, 2])
def test_output_never_exceeds_the_size_asked_for(n, n_out, seed):
    x, y = _series(n, seed)
    xs, ys = downsample.minmax_lttb(x, y, n_out)
    assert len(xs) <= n_out and len(xs) == len(ys)
    assert np.all(np.diff(xs) > 0)  # still a time series


@pytest.mark.parametrize("n_out", [200, 1000])
@pytest.mark.parametrize("seed", [3, 4])
def test_minmax_lttb_keeps_the_peaks(n_out, seed):
    x, y = _series(200_000, seed)
    xs, ys = downsample.minmax_lttb(x, y, n_out)
    assert ys.max() == y.max() and ys.min() == y.min()
    assert set(x[y > 6]) <= set(xs)  # every spike is still drawn


@pytest.mark.parametrize("n_out", [200, 1000, 2400])
@pytest.mark.parametrize("seed", [3, 4])
def test_minmax_keeps_every_buckets_min_and_max(n_out, seed):
    x, y = _series(200_003, seed)
    xs, ys = downsample.minmax(x, y, n_out)
    assert len(xs) <= n_out
    kept = set(zip(xs.tolist(), ys.tolist(), strict=True))
    edges = np.linspace(0, len(x), n_out // 2 + 1).astype(np.int64)
    for bucket in (np.arange(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)):
        lo, hi = bucket[np.argmin(y[bucket])], bucket[np.argmax(y[bucket])]
        assert (x[lo], y[lo]) in kept and (x[hi], y[hi]) in kept


def test_short_series_is_returned_as_it_is():
    x, y = _series(50, 5)
    xs, ys = downsample.minmax_lttb(x, y, 100)
    assert (xs == x).all() and (ys == y).all()


@pytest.mark.parametrize(
    ("x", "max_step", "nan_after"),
    [
        ([0, 1, 2, 3, 10, 11, 12], 2, [3]),
        ([0, 1, 2, 3], 2, []),
        ([0, 5, 6, 20], 2, [0, 2]),
    ],
)
def test_gaps_become_breaks(x, max_step, nan_after):
    xs, ys = downsample.insert_gaps(np.array(x, dtype=np.int64), np.arange(len(x), dtype=float), max_step)
    assert len(xs) == len(x) + len(nan_after)
    nan_positions = np.flatnonzero(np.isnan(ys))
    assert [xs[p - 1] for p in nan_positions] == [x[i] for i in nan_after]


@pytest.mark.parametrize(
    ("seconds", "label"), [(1, "1 s"), (300, "5 min"), (7200, "2 h"), (86400, "1 d"), (90, "1.5 min")]
)
def test_bucket_labels(seconds, label):
    assert downsample.bucket_label(seconds) == label


@pytest.mark.parametrize(
    ("x", "starts"),
    [
        ([0, 1, 2, 3, 4, 100, 101, 102], [4]),  # 1 Hz, a stop, 1 Hz again
        ([0, 300, 600, 900, 901, 902, 903], []),  # every 5 min, then every second: no gap
        ([0, 300, 600, 5000, 5300, 5600], [600]),
        ([0, 1, 2], []),
    ],
)
def test_gap_starts_are_local(x, starts):
    assert downsample.gap_starts(np.array(x, dtype=np.int64)).tolist() == starts


def test_breaks_survive_downsampling():
    x = np.r_[np.arange(0, 50_000), np.arange(80_000, 130_000)].astype(np.int64)
    y = np.sin(x / 1000.0)
    starts = downsample.gap_starts(x)
    xs, ys = downsample.minmax_lttb(x, y, 500)
    bx, by = downsample.insert_breaks(xs, ys, starts)
    nan_at = np.flatnonzero(np.isnan(by))
    assert len(nan_at) == 1 and bx[nan_at[0] - 1] <= 49_999 and bx[nan_at[0] + 1] >= 80_000
