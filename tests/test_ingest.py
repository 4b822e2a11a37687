"""Batch upserts: new rows count, identical rows are no-ops, corrections replace, bad batches write nothing."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import ingest

TS = pd.Timestamp("2026-05-01 08:00", tz="UTC")


@pytest.fixture
def machine(db_engine):
    dims = {
        "plant": pd.DataFrame([("P1", "Plant 1", "Europe/Berlin")], columns=["plant_id", "name", "tz"]),
        "line": pd.DataFrame([("L1", "P1", "Line 1")], columns=["line_id", "plant_id", "name"]),
        "machine": pd.DataFrame(
            [("M1", "L1", "Machine 1", 2.0)], columns=["machine_id", "line_id", "name", "ideal_cycle_s"]
        ),
    }
    with db_engine.begin() as conn:
        for table, frame in dims.items():
            assert ingest.upsert(conn, table, frame) == 1
    return db_engine


def _rows(n: int, good: int = 25) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "machine_id": "M1",
            "ts": pd.date_range(TS, periods=n, freq="min"),
            "planned_s": 60.0,
            "run_s": 55.0,
            "total_count": 27,
            "good_count": good,
            "startup_rejects": 0,
            "ideal_cycle_s": 2.0,
        }
    )


def _write(engine, frame: pd.DataFrame) -> int:
    with engine.begin() as conn:
        return ingest.upsert(conn, "production", frame)


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("select count(*) from production")).scalar()


def test_new_then_identical_then_corrected(machine):
    assert _write(machine, _rows(10)) == 10
    assert _write(machine, _rows(10)) == 0
    corrected = _rows(10)
    corrected.loc[3, "good_count"] = 20
    assert _write(machine, corrected) == 1
    assert _count(machine) == 10
    with machine.connect() as conn:
        assert conn.execute(sa.text("select sum(good_count) from production")).scalar() == 9 * 25 + 20


def test_exact_timestamps_survive_the_round_trip(machine):
    frame = _rows(1)
    frame["ts"] = [pd.Timestamp("2026-05-01 08:00:00.123456", tz="Asia/Kolkata")]
    _write(machine, frame)
    assert _write(machine, frame) == 0  # a lossy round trip would look like a change


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda f: f.drop(columns="run_s"), "lacks column"),
        (lambda f: pd.concat([f, f.iloc[:1]]), "repeats a key"),
        (lambda f: f.assign(ts=f.ts.dt.tz_localize(None)), "without a time zone"),
        (lambda f: f.assign(machine_id=None), "empty key"),
    ],
)
def test_bad_batch_is_refused_whole(machine, mangle, message):
    with pytest.raises(ingest.BatchError, match=message):
        _write(machine, mangle(_rows(5)))
    assert _count(machine) == 0


def test_database_constraint_failure_writes_nothing(machine):
    bad = _rows(5)
    bad.loc[4, "good_count"] = 99  # more good than total
    with pytest.raises(ingest.BatchError, match="production batch was refused by the database: .*check constraint"):
        _write(machine, bad)
    assert _count(machine) == 0
