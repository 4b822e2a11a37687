"""Fresh answers after corrections: a change to a cached historic window is seen within one refresh interval."""

from __future__ import annotations

import os
import time
from datetime import date, timedelta

import pandas as pd
import pytest
import redis
import sqlalchemy as sa
from flask import Flask

from dashboard import cache, data, ingest, rollups
from dashboard.config import Settings
from tests.known import D, load_known

DAY = D.date()
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _good(day: date) -> float:
    """Good units of plant BER on ``day`` through the pages' own data function."""
    frame = data.oee_daily(day, day, "plant")
    return float(frame.loc[frame["key"] == "BER", "good_count"].sum())


def _correct_b1(engine, good: int) -> int:
    """Berlin's 23:30-24:00 block on the 14th (30 minutes at 18 good of 20) now reports ``good`` a minute."""
    rows = pd.DataFrame(
        {
            "machine_id": "B1",
            "ts": pd.date_range(pd.Timestamp(D) + timedelta(hours=22, minutes=30), periods=30, freq="min"),
            "planned_s": 60.0,
            "run_s": 50.0,
            "total_count": 20,
            "good_count": good,
            "startup_rejects": 0,
            "ideal_cycle_s": 2.0,
        }
    )
    with engine.begin() as conn:
        return ingest.upsert(conn, "production", rows)


@pytest.fixture(params=["local", "redis"])
def known(request, db_engine):
    url = ""
    if request.param == "redis":
        redis.Redis.from_url(REDIS_URL).flushdb()
        url = REDIS_URL
    load_known(db_engine)
    data.init_app(Flask("t"), db_engine, Settings(redis_url=url, refresh_seconds=5, cache_timeout=3600))
    return db_engine


def _generation(engine, kind: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("select generation from data_generation where kind = :k"), {"k": kind}).scalar()


def test_correction_to_a_cached_day_is_seen_within_one_refresh(known):
    assert _good(DAY) == 30 * 18  # worked out in tests/known.py: 30 minutes at 18 good
    hits = cache.query_cache.stats["hits"]
    assert _good(DAY) == 540 and cache.query_cache.stats["hits"] == hits + 1  # really served from the cache
    assert _correct_b1(known, 15) == 30
    rollups.refresh(known)  # what the app's refresher does every REFRESH_SECONDS
    time.sleep(cache.generations.max_age_s + 0.1)  # well within one refresh interval (5 s)
    assert _good(DAY) == 30 * 15
    assert _good(DAY + timedelta(days=1)) == 30 * 12  # the next day is untouched


def test_a_page_asking_before_the_rollups_caught_up_does_not_keep_the_old_figure(known):
    assert _good(DAY) == 540
    _correct_b1(known, 10)
    time.sleep(cache.generations.max_age_s + 0.1)
    assert _good(DAY) == 540  # rollups not refreshed yet: the old figure, cached under the new generation
    rollups.refresh(known)  # settles: the generation moves once more
    time.sleep(cache.generations.max_age_s + 0.1)
    assert _good(DAY) == 300


def test_live_writes_do_not_bump_but_late_ones_do(known):
    before = _generation(known, "production")
    now = pd.Timestamp.now(tz="UTC").floor("min")
    live = pd.DataFrame(
        [("B1", now - pd.Timedelta(minutes=2), 60.0, 60.0, 30, 30, 0, 2.0)],
        columns=list(ingest.TABLES["production"].columns),
    )
    with known.begin() as conn:
        assert ingest.upsert(conn, "production", live) == 1
    assert _generation(known, "production") == before
    late = live.assign(ts=now - pd.Timedelta(hours=3))
    with known.begin() as conn:
        assert ingest.upsert(conn, "production", late) == 1
    assert _generation(known, "production") == before + 1
    with known.begin() as conn:  # the same rows again: nothing changed, nothing bumped
        assert ingest.upsert(conn, "production", late) == 0
    assert _generation(known, "production") == before + 1
    assert _generation(known, "inventory") == 0
