"""The query cache against a real Redis: hits, misses, expiry, keys, single flight, and Redis going away."""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis
import sqlalchemy as sa
from flask import Flask
from flask_caching import Cache

from dashboard import cache, data, db
from dashboard.config import Settings
from dashboard.queries import Scope

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url() -> str:
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()  # scripts/test starts a Redis when the machine has none: a failure here is real
    client.flushdb()
    return REDIS_URL


def _cache(url: str) -> cache.QueryCache:
    qc = cache.QueryCache(Cache())
    assert qc.init_app(Flask("t"), Settings(redis_url=url)) == ("RedisCache" if url else "SimpleCache")
    return qc


class Counter:
    def __init__(self) -> None:
        self.n = 0
        self.lock = threading.Lock()

    def __call__(self, value: object = "answer", sleep: float = 0.0):  # noqa: ANN204
        def compute() -> object:
            with self.lock:
                self.n += 1
            time.sleep(sleep)
            return value

        return compute


def test_miss_then_hit(redis_url):
    qc, count = _cache(redis_url), Counter()
    assert qc.get_or_compute("k", count("v1"), 60) == "v1"
    assert qc.get_or_compute("k", count("v2"), 60) == "v1"
    assert count.n == 1
    assert redis.Redis.from_url(redis_url).exists("pd:k")


def test_entry_expires(redis_url):
    qc, count = _cache(redis_url), Counter()
    qc.get_or_compute("short", count(), 1)
    time.sleep(1.6)
    qc.get_or_compute("short", count(), 1)
    assert count.n == 2


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("oee", datetime(2026, 1, 1, tzinfo=UTC), "plant"), ("oee", datetime(2026, 1, 1, tzinfo=UTC), "line")),
        (("oee", Scope(plants=("A",))), ("oee", Scope(plants=("B",)))),
        (("oee", datetime(2026, 1, 1, tzinfo=UTC)), ("oee", datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC))),
    ],
)
def test_keys_hold_every_parameter(a, b):
    assert cache.make_key(*a) != cache.make_key(*b)
    assert cache.make_key(*a) == cache.make_key(*a)


def test_single_flight_across_threads(redis_url, db_engine):
    qc = _cache(redis_url)
    executed = []
    sa.event.listen(db_engine, "before_cursor_execute", lambda *a: executed.append(a[2]))

    def compute() -> int:
        with db_engine.connect() as conn:
            return conn.execute(sa.text("select 42 from pg_sleep(0.3)")).scalar_one()

    results = []
    threads = [threading.Thread(target=lambda: results.append(qc.get_or_compute("sf", compute, 60))) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [42] * 16
    assert sum("pg_sleep" in s for s in executed) == 1


def _worker(url: str, db_url: str, barrier, out) -> None:  # noqa: ANN001 - multiprocessing primitives
    qc = _cache(url)
    engine = db.create(db_url, pool_size=1)

    def compute() -> int:
        redis.Redis.from_url(url).incr("computed")
        with engine.connect() as conn:
            return conn.execute(sa.text("select 7 from pg_sleep(0.5)")).scalar_one()

    barrier.wait()
    out.put(qc.get_or_compute("across", compute, 60))


def test_single_flight_across_processes(redis_url, db_engine):
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(4), ctx.Queue()
    db_url = db_engine.url.render_as_string(hide_password=False)
    procs = [ctx.Process(target=_worker, args=(redis_url, db_url, barrier, out)) for _ in range(4)]
    for p in procs:
        p.start()
    answers = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
    assert answers == [7, 7, 7, 7]
    assert int(redis.Redis.from_url(redis_url).get("computed")) == 1


def test_redis_down_answers_from_the_database_and_a_local_cache(caplog):
    qc, count = _cache("redis://127.0.0.1:1/0"), Counter()  # nothing listens on port 1
    assert qc.get_or_compute("k", count("fresh"), 60) == "fresh"
    assert qc.get_or_compute("k", count("again"), 60) == "fresh"  # the local fallback kept it
    assert count.n == 1
    assert not qc.healthy()
    assert "cache unavailable" in caplog.text


def test_redis_back_is_used_again(redis_url):
    qc, count = _cache(redis_url), Counter()
    qc.retry_after_s = 0.2
    qc._down_until = time.monotonic() + 0.2  # as if Redis had just failed
    qc.get_or_compute("k2", count(), 60)
    time.sleep(0.3)
    qc.get_or_compute("k3", count(), 60)
    assert redis.Redis.from_url(redis_url).exists("pd:k3")


def test_data_layer_asks_the_database_once_per_window(redis_url, db_engine):
    statements = []
    sa.event.listen(db_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    data.init_app(Flask("t"), db_engine, Settings(redis_url=redis_url, refresh_seconds=5))
    now = cache.live_now(5)
    data.oee_totals(now - timedelta(hours=6), now, "plant")
    first = len(statements)
    for _ in range(5):
        data.oee_totals(now - timedelta(hours=6), now, "plant")
    assert first > 0 and len(statements) == first
    data.oee_totals(now - timedelta(hours=6), now, "line")  # another parameter, another question
    assert len(statements) > first


@pytest.mark.parametrize(
    ("now", "refresh", "aligned"),
    [
        (datetime(2026, 1, 1, 12, 0, 14, tzinfo=UTC), 15, datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)),
        (datetime(2026, 1, 1, 12, 0, 15, tzinfo=UTC), 15, datetime(2026, 1, 1, 12, 0, 15, tzinfo=UTC)),
        (datetime(2026, 1, 1, 12, 0, 29, 999, tzinfo=UTC), 5, datetime(2026, 1, 1, 12, 0, 25, tzinfo=UTC)),
    ],
)
def test_live_windows_align_to_the_refresh_interval(now, refresh, aligned):
    assert cache.live_now(refresh, now) == aligned


def test_live_answers_live_one_interval_and_history_longer():
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert cache.timeout_for(now, 15, 300, now) == 17
    assert cache.timeout_for(now - timedelta(days=1), 15, 300, now) == 300
