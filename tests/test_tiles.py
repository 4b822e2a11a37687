"""The explorer's tile cache: exactly the rows of the window at every level, live tiles re-read, a bounded budget,
tiles shared between workers through Redis, and an envelope that keeps every bucket's extremes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import redis
import sqlalchemy as sa
from flask import Flask

from dashboard import ingest, queries, rollups, tiles
from dashboard.config import Settings
from tests.known import load_known
from tests.test_cache import REDIS_URL

T0 = datetime(2026, 3, 2, 22, 0, 0, tzinfo=UTC)


def _readings(engine, first: datetime, seconds: int, offset: float = 0.0, skip: tuple[int, int] = (0, 0)) -> int:  # noqa: ANN001
    ts = pd.date_range(first, periods=seconds, freq="s")
    keep = (np.arange(seconds) < skip[0]) | (np.arange(seconds) >= skip[1])  # readings [skip) missing: a stop
    value = offset + 40 + 5 * np.sin(np.arange(seconds) / 600.0)
    with engine.begin() as conn:
        ingest.upsert(conn, "telemetry", pd.DataFrame({"sensor_id": 1, "ts": ts[keep], "value": value[keep]}))
    rollups.refresh(engine)
    return int(keep.sum())


def _sensor(engine) -> None:  # noqa: ANN001
    load_known(engine)
    with engine.begin() as conn:
        ingest.upsert(
            conn,
            "sensor",
            pd.DataFrame(
                [(1, "B1", "temperature", "°C", None, 80.0)],
                columns=["sensor_id", "machine_id", "kind", "unit", "lo_limit", "hi_limit"],
            ),
        )


@pytest.fixture
def sensor_rows(any_engine):
    _sensor(any_engine)
    _readings(any_engine, T0, 5 * 3600, skip=(4000, 5000))  # 5 h across midnight, with a stop of 1,000 s
    return any_engine


@pytest.mark.parametrize("level", [rel for rel, _ in queries.SENSOR_LEVELS])
@pytest.mark.parametrize(
    ("start_s", "end_s"),
    [(0, 5 * 3600), (1799, 3601), (3600, 7200), (4100, 4900), (-86400, 90), (17999, 18000), (30, 30 + 86400)],
)
def test_tiles_give_exactly_the_rows_of_the_window(sensor_rows, level, start_s, end_s):
    start, end = T0 + timedelta(seconds=start_s), T0 + timedelta(seconds=end_s)
    cache = tiles.TileCache()
    got = cache.rows(sensor_rows, 1, level, start, end)
    again = cache.rows(sensor_rows, 1, level, start, end)  # from the cache this time
    if level == tiles.RAW:
        want = queries.sensor_raw(sensor_rows, 1, start, end)
    else:
        want = queries.sensor_level(sensor_rows, 1, start, end, level)
    assert cache.hits > 0
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(again, want)


def test_raw_counts_across_a_tile_edge_and_a_stop(sensor_rows):
    cache = tiles.TileCache()
    # 23:00:00 to 23:30:00 UTC holds readings 3600..5399, of which 4000..4999 are the stop: 800 remain
    rows = cache.rows(sensor_rows, 1, tiles.RAW, T0 + timedelta(hours=1), T0 + timedelta(hours=1.5))
    assert len(rows) == 800
    assert rows[0, 0] == (T0 + timedelta(hours=1)).timestamp() * 1000
    assert rows[-1, 0] == (T0 + timedelta(seconds=5399)).timestamp() * 1000


def test_a_live_tile_is_read_again_after_one_interval(db_engine):
    _sensor(db_engine)
    now = datetime.now(UTC).replace(microsecond=0)
    _readings(db_engine, now - timedelta(minutes=10), 300)
    window = (now - timedelta(minutes=10), now + timedelta(minutes=1))
    fresh, held = tiles.TileCache(live_ttl_s=0), tiles.TileCache(live_ttl_s=3600)
    assert len(fresh.rows(db_engine, 1, tiles.RAW, *window)) == len(held.rows(db_engine, 1, tiles.RAW, *window)) == 300
    _readings(db_engine, now - timedelta(minutes=5), 300)  # five more minutes arrive
    assert len(fresh.rows(db_engine, 1, tiles.RAW, *window)) == 600
    assert len(held.rows(db_engine, 1, tiles.RAW, *window)) == 300  # proves the tile was cached meanwhile


def test_the_cache_keeps_within_its_budget(sensor_rows):
    one_tile = 3600 * 2 * 8
    cache = tiles.TileCache(max_bytes=2 * one_tile)
    rows = cache.rows(sensor_rows, 1, tiles.RAW, T0, T0 + timedelta(hours=5))
    assert len(rows) == 5 * 3600 - 1000  # the answer is whole even when the cache cannot hold it
    assert cache.nbytes <= 2 * one_tile


def test_two_databases_never_share_tiles(db_engine, second_engine):
    for offset, engine in ((0.0, db_engine), (100.0, second_engine)):
        _sensor(engine)
        _readings(engine, T0, 600, offset=offset)
    cache = tiles.TileCache()
    a, b = (cache.rows(e, 1, tiles.RAW, T0, T0 + timedelta(minutes=10)) for e in (db_engine, second_engine))
    assert b[0, 1] - a[0, 1] == 100.0


@pytest.mark.parametrize("bucket_s", [1, 7, 60, 61.5, 3600])
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("shape", ["raw", "level"])
def test_envelope_keeps_every_bucket_extreme_and_mean(bucket_s, seed, shape):
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.integers(1, 30, 5000)).astype(np.float64) * 1000 + 1.7e12
    v = rng.normal(50, 10, len(t))
    frame = pd.DataFrame({"b": np.floor(t / (bucket_s * 1000)), "v": v})
    want = frame.groupby("b")["v"].agg(["min", "max", "mean", "count"])
    rows = np.column_stack([t, v]) if shape == "raw" else np.column_stack([t, v, v, v, np.ones(len(t))])
    env = tiles.envelope(rows, bucket_s)
    np.testing.assert_array_equal(env[:, 0], want.index.to_numpy() * bucket_s * 1000)
    np.testing.assert_array_equal(env[:, 1], want["min"].to_numpy())
    np.testing.assert_array_equal(env[:, 2], want["max"].to_numpy())
    np.testing.assert_allclose(env[:, 3], want["mean"].to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(env[:, 4], want["count"].to_numpy())


@pytest.fixture
def redis_backend():
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()  # scripts/test starts a Redis when the machine has none: a failure here is real
    client.flushdb()
    return tiles.shared_store(Flask("t"), Settings(redis_url=REDIS_URL))


def test_a_tile_one_worker_read_serves_another_through_redis(sensor_rows, redis_backend):
    window = (T0, T0 + timedelta(hours=2))
    first = tiles.TileCache(shared=redis_backend).rows(sensor_rows, 1, tiles.RAW, *window)
    client, deadline = redis.Redis.from_url(REDIS_URL), time.monotonic() + 5
    while client.dbsize() < 2 and time.monotonic() < deadline:  # the two tiles are handed over off the request path
        time.sleep(0.02)
    with sensor_rows.begin() as conn:
        conn.execute(sa.text("delete from telemetry"))  # from here on only the shared cache has the readings
    other = tiles.TileCache(shared=redis_backend)  # another worker: its own memory is empty
    np.testing.assert_array_equal(other.rows(sensor_rows, 1, tiles.RAW, *window), first)
    assert other.shared_hits == 2 and len(first) == 2 * 3600 - 1000
    assert len(tiles.TileCache().rows(sensor_rows, 1, tiles.RAW, *window)) == 0  # the database really is empty


def test_a_shared_cache_that_is_away_costs_nothing_but_the_database_read(sensor_rows):
    away = tiles.shared_store(Flask("t"), Settings(redis_url="redis://127.0.0.1:1/0"))
    cache = tiles.TileCache(shared=away)
    rows = cache.rows(sensor_rows, 1, tiles.RAW, T0, T0 + timedelta(hours=1))
    assert len(rows) == 3600 and cache.shared_hits == 0
