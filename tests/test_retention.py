"""Retention: old raw rows go in bounded batches, the rollups keep what they had, and old ranges still answer
from them (to whole 15 minutes), on hand-built data whose answers are worked out by hand."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from flask import Flask

from dashboard import config, data, ingest, queries, retention, rollups
from dashboard.config import Settings
from tests.known import D, load_known

# tests/known.py: B1 runs 22:30-23:30 UTC on D (kept below), K1 and K2 18:00-19:00 UTC (deleted below).
NOW = D + timedelta(days=1, hours=20, minutes=40)  # RETAIN_RAW_DAYS=1 -> raw rows before D 20:00 go
CUT = D + timedelta(hours=20)
GOOD = {"B1": 18 * 30 + 12 * 30, "K1": 18 * 30 + 8 * 30, "K2": 26 * 30}


def _count(engine, sql: str, **params) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


def _good(frame: pd.DataFrame) -> dict[str, float]:
    return dict(zip(frame["key"], frame["good_count"], strict=True))


def test_cutoff_is_a_whole_hour():
    assert retention.cutoff(1, NOW) == CUT
    assert retention.cutoff(0, NOW) is None


def test_raw_rows_go_in_batches_and_the_rollups_keep_them(db_engine):
    load_known(db_engine)
    before = queries.oee_totals(db_engine, D, D + timedelta(days=2), "machine")
    assert _good(before) == GOOD

    done = retention.apply(db_engine, retention.Policy(raw_days=1, batch_rows=7, batches=100), now=NOW)

    assert done == {"production": 90, "telemetry": 0}  # K1 60 minutes + K2 30 minutes, 7 per statement
    assert _count(db_engine, "select count(*) from production where ts < :c", c=CUT) == 0
    assert _count(db_engine, "select count(*) from production") == 60  # B1 after the cut is untouched
    assert _count(db_engine, "select count(*) from rollup_invalidation") == 0  # the deletes left no marks
    assert rollups.refresh(db_engine)["production"] == 0
    after = queries.oee_totals(db_engine, D, D + timedelta(days=2), "machine", raw_from=CUT)
    pd.testing.assert_frame_equal(after, before)
    daily = queries.oee_daily(db_engine, D.date(), (D + timedelta(days=1)).date(), "machine")
    assert daily.groupby("key")["good_count"].sum().to_dict() == GOOD  # plant-local days kept too


def test_an_old_range_answers_from_whole_5_minute_buckets(db_engine):
    load_known(db_engine)
    retention.apply(db_engine, retention.Policy(raw_days=1), now=NOW)
    start = D + timedelta(hours=18, minutes=2)  # inside the 18:00-18:05 bucket of the finest rollup
    kept = _good(queries.oee_totals(db_engine, start, D + timedelta(days=2), "machine", raw_from=CUT))
    assert kept == GOOD  # widened to 18:00: K1's and K2's whole hour
    # Without knowing where raw rows begin, the ragged start reads deleted minutes: 18:02-18:05 is missing, and
    # 18:00-18:02 lies before the range, so five minutes of the hour are not counted.
    lost = _good(queries.oee_totals(db_engine, start, D + timedelta(days=2), "machine"))
    assert lost["K1"] == GOOD["K1"] - 5 * 18 and lost["K2"] == GOOD["K2"] - 5 * 26
    series = queries.oee_series(
        db_engine, D + timedelta(hours=18), D + timedelta(hours=19), 60, "machine", raw_from=CUT
    )
    assert sorted(series["bucket"].unique()) == list(pd.date_range(D + timedelta(hours=18), periods=12, freq="5min"))
    assert series.groupby("key")["good_count"].sum().to_dict() == {"K1": GOOD["K1"], "K2": GOOD["K2"]}


def test_a_late_row_in_an_old_hour_is_rolled_up_before_retention_deletes(db_engine):
    load_known(db_engine)
    late = pd.DataFrame(
        {
            "machine_id": ["K2"],
            "ts": [D + timedelta(hours=18, minutes=40)],
            "planned_s": 60.0,
            "run_s": 30.0,
            "total_count": 5,
            "good_count": 4,
            "startup_rejects": 0,
            "ideal_cycle_s": 1.5,
        }
    )
    with db_engine.begin() as conn:
        ingest.upsert(conn, "production", late)
    assert retention.apply(db_engine, retention.Policy(raw_days=1), now=NOW)["production"] == 0  # waits
    assert rollups.refresh(db_engine)["production"] == 1
    assert retention.apply(db_engine, retention.Policy(raw_days=1), now=NOW)["production"] == 91
    assert (
        _good(queries.oee_totals(db_engine, D, D + timedelta(days=2), "machine", raw_from=CUT))["K2"] == GOOD["K2"] + 4
    )


def test_rollup_retention_deletes_old_buckets_only(db_engine):
    load_known(db_engine)
    now = NOW + timedelta(days=1)  # raw cut D+1d 20:00 (everything), rollup cut D 20:00
    done = retention.apply(db_engine, retention.Policy(raw_days=1, rollup_days=2), now=now)
    assert done["production"] == 150
    assert _count(db_engine, "select count(*) from production_15m") == 4  # B1 22:30-23:30
    assert _count(db_engine, "select count(*) from production_1h where bucket < :c", c=CUT) == 0
    # Plant-local days from their midnight: only Berlin's 15th (from 23:00 UTC on D) starts after the cut.
    assert _count(db_engine, "select count(*) from production_1d") == 1
    assert rollups.refresh(db_engine)["production"] == 0
    assert _good(queries.oee_totals(db_engine, D, D + timedelta(days=2), "machine", raw_from=CUT)) == {"B1": GOOD["B1"]}


def _telemetry(engine) -> None:  # noqa: ANN001
    with engine.begin() as conn:
        ingest.upsert(
            conn,
            "sensor",
            pd.DataFrame(
                [(1, "K1", "temperature", "°C", None, 90.0)],
                columns=["sensor_id", "machine_id", "kind", "unit", "lo_limit", "hi_limit"],
            ),
        )
        ts = pd.date_range(D + timedelta(hours=18), periods=3600, freq="s")
        ingest.upsert(conn, "telemetry", pd.DataFrame({"sensor_id": 1, "ts": ts, "value": np.arange(3600) % 100.0}))
    rollups.refresh(engine)


def test_the_explorer_falls_back_to_rollup_levels_where_raw_is_gone(db_engine):
    load_known(db_engine)
    _telemetry(db_engine)
    data.init_app(Flask("t"), db_engine, Settings(refresh_seconds=5))
    window = (D + timedelta(hours=18), D + timedelta(hours=18, minutes=10))  # 600 readings: normally drawn raw
    assert data.sensor_series(1, *window, 1000).label == "every reading"
    done = retention.apply(db_engine, retention.Policy(raw_days=1), now=NOW)
    assert done["telemetry"] == 3600
    # The app's own clock: raw rows older than 300 days are gone, D among them.
    data.init_app(Flask("t"), db_engine, Settings(refresh_seconds=5, retain_raw_days=300))
    s = data.sensor_series(1, *window, 1000)
    assert s.label == "mean, min–max per 10 s" and s.points_in_window == 600
    assert np.nanmax(s.hi) == 99.0 and np.nanmin(s.lo) == 0.0  # the extremes survive in the 10 s rollup
    assert len(s.x) == 60


def test_rollups_must_outlive_raw_rows():
    with pytest.raises(config.ConfigError, match="RETAIN_ROLLUP_DAYS"):
        config.load({"RETAIN_RAW_DAYS": "30", "RETAIN_ROLLUP_DAYS": "7"})
    assert config.load({"RETAIN_RAW_DAYS": "30", "RETAIN_ROLLUP_DAYS": "400"}).retain_rollup_days == 400


@pytest.mark.timescale
def test_timescale_drops_chunks_and_the_aggregates_keep_them(empty_db_url):
    from dashboard import db, migrate

    engine = db.create(empty_db_url)
    migrate.migrate(engine, want_timescale=True)
    rollups.ensure(engine)
    load_known(engine)
    before = queries.oee_totals(engine, D, D + timedelta(days=2), "machine")
    assert _good(before) == GOOD
    later = NOW + timedelta(days=30)  # past the end of the 7-day chunk holding D
    done = retention.apply(engine, retention.Policy(raw_days=1), now=later)
    assert done["production"] >= 1 and _count(engine, "select count(*) from production") == 0
    rollups.refresh(engine, raw_days=1)  # refreshes from the raw cut-off on: the aggregates keep D
    cut = retention.cutoff(1, later)
    pd.testing.assert_frame_equal(queries.oee_totals(engine, D, D + timedelta(days=2), "machine", raw_from=cut), before)
    engine.dispose()
