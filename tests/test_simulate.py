"""The simulator against a real database: same seed same rows, re-sent batches add nothing, clear CLI errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import db, simulator
from dashboard.simulate import Feed

ROOT = Path(__file__).resolve().parent.parent
END = pd.Timestamp("2026-03-04 13:37", tz="UTC")
START = END.floor("D") - pd.Timedelta(days=1)
FACTS = ["production", "downtime", "telemetry", "inventory_level", "inventory_movement"]


def _fingerprint(engine: sa.Engine) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent hash of every fact table."""
    out = {}
    with engine.connect() as conn:
        for t in FACTS:
            out[t] = tuple(
                conn.execute(
                    sa.text(f"select count(*), md5(string_agg(md5(x::text), '' order by md5(x::text))) from {t} x")
                ).one()
            )
    return out


def _backfill(engine: sa.Engine, seed: int) -> Feed:
    feed = Feed(engine, simulator.topology(seed, 2, 6), hf_hours=0.5, step_s=120)
    feed.backfill(START, END, progress=False)
    return feed


def test_same_seed_gives_the_same_rows_in_two_databases(db_engine, second_engine):
    _backfill(db_engine, 5)
    _backfill(second_engine, 5)
    first = _fingerprint(db_engine)
    assert all(n > 0 for n, _ in first.values())
    assert first == _fingerprint(second_engine)


def test_another_seed_gives_other_rows(db_engine, second_engine):
    _backfill(db_engine, 5)
    _backfill(second_engine, 6)
    assert _fingerprint(db_engine)["production"] != _fingerprint(second_engine)["production"]


def test_resending_everything_adds_and_changes_nothing(any_engine):
    _backfill(any_engine, 5)
    before = _fingerprint(any_engine)
    again = _backfill(any_engine, 5)
    assert sum(again.written.values()) == 0
    assert _fingerprint(any_engine) == before


def test_live_tick_appends_after_backfill(db_engine):
    feed = _backfill(db_engine, 5)
    before = _fingerprint(db_engine)["production"][0]
    feed._tick(END, END + pd.Timedelta(minutes=3, seconds=20), END.ceil("h"))
    after = _fingerprint(db_engine)
    assert after["production"][0] > before
    with db_engine.connect() as conn:
        newest = conn.execute(sa.text("select max(ts) from telemetry")).scalar()
    assert pd.Timestamp(newest) > END + pd.Timedelta(minutes=3)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dashboard.simulate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TIMESCALEDB": "0"},
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0"], "--days must be between 1 and 3660, got 0"),
        (["--days", "ten"], "argument --days: invalid int value: 'ten'"),
        (["--plants", "9"], "--plants must be between 1 and 6, got 9"),
        (["--plants", "3", "--machines", "2"], "--machines (2) must be at least --plants (3)"),
        (["--end", "2026-01-01"], "--end needs a time zone"),
        (["--end", "yesterday-ish"], "--end is not a time"),
    ],
)
def test_cli_bad_argument_is_one_clear_line(args, message):
    done = _cli(*args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert message in done.stderr.strip().splitlines()[-1]


def test_cli_unreachable_database():
    done = _cli("--database-url", "postgresql://x@127.0.0.1:9/nowhere", "--no-live", "--days", "1")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: Cannot reach the database nowhere on 127.0.0.1:9")
    assert "Traceback" not in done.stderr


def test_cli_backfills_and_reports_rows(empty_db_url):
    done = _cli(
        "--database-url",
        empty_db_url,
        "--days",
        "1",
        "--plants",
        "1",
        "--machines",
        "2",
        "--end",
        "2026-03-04T06:00Z",
        "--sensors",
        "1",
    )
    assert done.returncode == 0, done.stderr
    assert "backfilled 2026-03-04 00:00 .. 2026-03-04 06:00 UTC" in done.stdout
    engine = db.create(empty_db_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(distinct machine_id) from production")).scalar() == 2
    engine.dispose()
