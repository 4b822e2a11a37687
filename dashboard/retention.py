"""Retention by age: raw facts after RETAIN_RAW_DAYS, rollups after RETAIN_ROLLUP_DAYS, without losing the rollups.

Plain PostgreSQL deletes in bounded batches (short transactions, no long lock on the tables pages read). The raw
tables' statement triggers mark every hour a delete touches for recomputation; recomputing an hour whose raw rows
are gone would empty its rollups, so the marks a retention delete makes are removed in the same transaction. Hours
are whole, so a kept hour never loses a row. TimescaleDB drops whole chunks instead, and the rollup refresh leaves
the continuous aggregates alone where raw rows are gone (see rollups.refresh_window)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dashboard import metrics, migrate

log = logging.getLogger(__name__)
ROLLUP_LOCK = 727_003  # the rollup refresher's advisory lock: retention and refresh never interleave

RAW = {"production": "ts", "telemetry": "ts"}
ROLLUPS = {
    "production_5m": "bucket",
    "production_15m": "bucket",
    "production_1h": "bucket",
    "production_1d": "bucket",
    "telemetry_10s": "bucket",
    "telemetry_1m": "bucket",
    "telemetry_5m": "bucket",
    "telemetry_1h": "bucket",
}
TIMESCALE_ROLLUPS = ["production_5m", "production_15m", "production_1h", "telemetry_10s", "telemetry_1m", "telemetry_5m", "telemetry_1h"]


@dataclass(frozen=True)
class Policy:
    raw_days: int = 0  # 0: keep forever
    rollup_days: int = 0
    batch_rows: int = 50_000  # rows per delete statement (one short transaction each)
    batches: int = 4  # statements per relation per pass; the refresher comes back every REFRESH_SECONDS

    @property
    def active(self) -> bool:
        return bool(self.raw_days or self.rollup_days)


def cutoff(days: int, now: datetime | None = None) -> datetime | None:
    """The start of the hour ``days`` ago: rows before it go. Whole hours, so rollup hours are never split."""
    if not days:
        return None
    at = (now or datetime.now(UTC)) - timedelta(days=days)
    return at.replace(minute=0, second=0, microsecond=0)


def apply(engine: Engine, policy: Policy, now: datetime | None = None) -> dict[str, int]:
    """One pass: at most ``batches`` x ``batch_rows`` rows per relation; returns rows deleted per relation."""
    raw_cut, rollup_cut = cutoff(policy.raw_days, now), cutoff(policy.rollup_days, now)
    with engine.connect() as conn:
        timescale = migrate.timescale_enabled(conn)
    if timescale:
        return _drop_chunks(engine, raw_cut, rollup_cut)
    done: dict[str, int] = {}
    for table, col in RAW.items():
        if raw_cut is not None:
            done[table] = _delete_raw(engine, table, col, raw_cut, policy)
    for table, col in ROLLUPS.items():
        if rollup_cut is not None:
            done[table] = _delete_batches(engine, table, col, rollup_cut, policy)
    for rel, n in done.items():
        if n:
            metrics.RETENTION_ROWS.labels(rel).inc(n)
            log.info("retention: %d rows of %s deleted", n, rel)
    return done


def _batch(conn: Connection, table: str, col: str, cut: datetime, rows: int) -> int:
    # ctid batches: a bounded delete without a key column list, using the index on the time column.
    return conn.execute(
        sa.text(f"delete from {table} where ctid = any(array(select ctid from {table} where {col} < :cut limit :n))"),
        {"cut": cut, "n": rows},
    ).rowcount


def _delete_raw(engine: Engine, table: str, col: str, cut: datetime, policy: Policy) -> int:
    total = 0
    for _ in range(policy.batches):
        with engine.begin() as conn:
            conn.execute(sa.text("select pg_advisory_xact_lock(:k)"), {"k": ROLLUP_LOCK})
            pending = conn.execute(
                sa.text("select count(*) from rollup_invalidation where source = :s and hour < :cut"),
                {"s": table, "cut": cut},
            ).scalar_one()
            if pending:  # a late row in an old hour: let the refresh roll it up before its raw rows go
                log.info("retention of %s waits: %d old hour(s) are still to be rolled up", table, pending)
                return total
            n = _batch(conn, table, col, cut, policy.batch_rows)
            # The delete trigger marked the hours it emptied; the rollups keep them as they are.
            conn.execute(
                sa.text("delete from rollup_invalidation where source = :s and hour < :cut"), {"s": table, "cut": cut}
            )
        total += n
        if n < policy.batch_rows:
            break
    return total


def _delete_batches(engine: Engine, table: str, col: str, cut: datetime, policy: Policy) -> int:
    total = 0
    for _ in range(policy.batches):
        with engine.begin() as conn:
            n = _batch(conn, table, col, cut, policy.batch_rows)
        total += n
        if n < policy.batch_rows:
            break
    return total


def _drop_chunks(engine: Engine, raw_cut: datetime | None, rollup_cut: datetime | None) -> dict[str, int]:
    """TimescaleDB: whole chunks older than the cut-off, raw tables and continuous aggregates alike. (Scheduled
    retention policies are the usual way, but background jobs fail on Debian's PostgreSQL 15.20, so the app's
    refresher does it.)"""
    done: dict[str, int] = {}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        plan = [(t, raw_cut) for t in RAW] + [(t, rollup_cut) for t in TIMESCALE_ROLLUPS]
        plan += [(name, rollup_cut) for name in _daily_aggregates(conn)]
        for rel, cut in plan:
            if cut is None:
                continue
            dropped = conn.execute(
                sa.text(
                    "select count(*) from drop_chunks(cast(:r as regclass), older_than => cast(:c as timestamptz))"
                ),
                {"r": rel, "c": cut},
            ).scalar_one()
            done[rel] = int(dropped)
    return done


def _daily_aggregates(conn: Connection) -> list[str]:
    return list(
        conn.execute(
            sa.text(
                "select view_name from timescaledb_information.continuous_aggregates where view_name like 'production_1d_%'"
            )
        ).scalars()
    )
