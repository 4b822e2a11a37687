"""Least privilege in the database: pages read through plant_reader, the simulator writes through plant_writer."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import db, rollups
from tests.known import load_known


@pytest.fixture
def known(any_engine):
    load_known(any_engine)
    rollups.refresh(any_engine)
    return any_engine


def _run(engine: sa.Engine, *statements: str) -> object:
    with engine.begin() as conn:
        result = None
        for s in statements:
            result = conn.execute(sa.text(s))
        return result.scalar() if result.returns_rows else None


def test_the_dashboard_role_reads_everything_pages_need(known):
    reader = db.reader(known)
    assert _run(reader, "select current_user") == "plant_reader"
    assert _run(reader, "select count(*) from plant") == 2
    assert _run(reader, "select count(*) from production") == _run(known, "select count(*) from production") > 0
    for rollup in ("production_5m", "production_15m", "production_1h", "production_1d", "telemetry_10s", "telemetry_1m", "telemetry_1h"):
        assert _run(reader, f"select count(*) from {rollup}") == _run(known, f"select count(*) from {rollup}")


@pytest.mark.parametrize(
    "statement",
    [
        "insert into plant values ('XXX', 'Nowhere', 'UTC')",
        "update production set good_count = 0",
        "delete from plant",
        "create table stolen (x int)",
        "select count(*) from app_user",  # password hashes are the sign-in code's alone
        "select count(*) from wall_token",
    ],
)
def test_the_dashboard_role_cannot_write_or_read_secrets(known, statement):
    reader = db.reader(known)
    with pytest.raises(sa.exc.DBAPIError, match="read-only transaction|permission denied"):
        _run(reader, statement)
    # Not only the read-only default: a transaction that asks to write is refused by the role's grants.
    with pytest.raises(sa.exc.DBAPIError, match="permission denied"):
        _run(reader, "set transaction read write", statement)
    assert _run(known, "select count(*) from plant") == 2


def test_the_writer_role_writes_rows_but_not_the_schema(known):
    writer = db.writer(known)
    assert _run(writer, "select current_user") == "plant_writer"
    frame = pd.DataFrame([("XXX", "Nowhere", "UTC")], columns=["plant_id", "name", "tz"])
    with writer.begin() as conn:
        frame.to_sql("plant", conn, if_exists="append", index=False)
    assert _run(known, "select count(*) from plant") == 3
    with pytest.raises(sa.exc.DBAPIError, match="permission denied"):
        _run(writer, "create table stolen (x int)")
    with pytest.raises(sa.exc.DBAPIError, match="permission denied"):
        _run(writer, "select count(*) from app_user")
