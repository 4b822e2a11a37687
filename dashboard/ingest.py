"""Validated batch upserts through COPY: a re-sent batch changes nothing, a corrected row replaces the old one."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
import psycopg2
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dashboard import db


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    values: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.key + self.values


# The only tables ingest writes; names never come from input.
TABLES = {
    t.name: t
    for t in (
        Table("plant", ("plant_id",), ("name", "tz")),
        Table("shift", ("plant_id", "name"), ("starts", "hours")),
        Table("line", ("line_id",), ("plant_id", "name")),
        Table("machine", ("machine_id",), ("line_id", "name", "ideal_cycle_s")),
        Table("downtime_reason", ("reason_code",), ("label", "category")),
        Table("sensor", ("sensor_id",), ("machine_id", "kind", "unit", "lo_limit", "hi_limit")),
        Table("material", ("material_id",), ("name", "unit", "unit_cost")),
        Table("stock_policy", ("plant_id", "material_id"), ("reorder_point", "safety_stock", "lead_time_days")),
        Table(
            "production",
            ("machine_id", "ts"),
            ("planned_s", "run_s", "total_count", "good_count", "startup_rejects", "ideal_cycle_s"),
        ),
        Table("downtime", ("machine_id", "start_ts"), ("end_ts", "reason_code")),
        Table("telemetry", ("sensor_id", "ts"), ("value",)),
        Table("inventory_level", ("plant_id", "material_id", "ts"), ("on_hand",)),
        Table("inventory_movement", ("plant_id", "material_id", "ts", "kind"), ("qty",)),
        Table("feed_signal", ("machine_id", "kind", "ts"), ("state", "reason", "total", "good")),
        Table("feed_status", ("feed_id",), ("seen_at", "behind_s", "buffered", "connected", "accepted", "rejected")),
        Table(
            "production_order",
            ("order_id",),
            (
                "plant_id", "material_id", "kind", "customer", "qty_ordered", "qty_produced", "line_id",
                "created_at", "released_at", "planned_start", "planned_finish", "actual_start", "actual_finish",
                "hold_reason",
            ),
        ),  # fmt: skip
        Table("production_order_run", ("order_id", "machine_id", "start_ts"), ("end_ts", "qty_good")),
        Table("delivery", ("order_id", "delivery_no"), ("promised_date", "qty", "goods_issue_at")),
    )
}


# Which cached answers a table's rows feed (dashboard.data folds the generation of each into its keys).
KINDS = {
    "production": "production",
    "downtime": "production",
    "telemetry": "telemetry",
    "inventory_level": "inventory",
    "inventory_movement": "inventory",
}
TIME_COLUMN = {"downtime": "start_ts"}
# Rows newer than this only touch live windows, which the cache keeps for one refresh interval anyway;
# the simulator's live writes stay below it, so they do not throw away every cached historic answer.
LATE = pd.Timedelta(minutes=10)


def bump(conn: Connection, kinds: tuple[str, ...]) -> None:
    """Mark cached answers of ``kinds`` stale, at commit of the caller's transaction."""
    conn.execute(
        sa.text("update data_generation set generation = generation + 1 where kind = any(:k)"), {"k": list(kinds)}
    )


def touches_history(table_name: str, frame: pd.DataFrame, now: pd.Timestamp | None = None) -> bool:
    """Whether rows of ``frame`` may sit in windows that are cached for longer than a refresh interval."""
    if table_name not in KINDS:
        return True
    ts = frame[TIME_COLUMN.get(table_name, "ts")]
    now = now or pd.Timestamp.now(tz="UTC")
    return bool(len(ts)) and ts.min() < now - LATE


class BatchError(ValueError):
    """A batch that cannot be written; nothing of it was written."""


def validate(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """Columns in the table's order, keys present and unique, times with a zone."""
    missing = [c for c in table.columns if c not in frame.columns]
    if missing:
        raise BatchError(f"{table.name} batch lacks column(s) {', '.join(missing)}")
    frame = frame.loc[:, list(table.columns)]
    if frame[list(table.key)].isna().any().any():
        raise BatchError(f"{table.name} batch has rows with an empty key")
    if frame.duplicated(list(table.key)).any():
        raise BatchError(f"{table.name} batch repeats a key within itself")
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]) and frame[col].dt.tz is None:
            raise BatchError(f"{table.name}.{col} has times without a time zone")
    return frame


def _csv(frame: pd.DataFrame) -> io.StringIO:
    buf = io.StringIO()
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            # ISO 8601 in UTC to the microsecond, so the server reads back exactly what was sent;
            # numpy formats a million stamps in a fraction of what strftime takes.
            utc = out[col].dt.tz_convert("UTC").to_numpy(dtype="datetime64[us]")
            text = np.char.add(np.datetime_as_string(utc, unit="us"), "+00")
            out[col] = np.where(out[col].isna().to_numpy(), None, text)  # an empty time is NULL, not 'NaT'
    out.to_csv(buf, index=False, header=False, na_rep="\\N")
    buf.seek(0)
    return buf


def upsert(conn: Connection, table_name: str, frame: pd.DataFrame, bump_generation: bool = True) -> int:
    """Write ``frame`` into ``table_name``; return how many rows were new or changed.

    Rows that change history (older than LATE, or any dimension) bump the cache generation of their kind,
    unless the caller bumps once itself (``bump_generation=False``).
    """
    table = TABLES[table_name]
    frame = validate(table, frame)
    if frame.empty:
        return 0
    try:
        written = _write(conn, table, frame)
        if written and bump_generation and touches_history(table_name, frame):
            bump(conn, (KINDS.get(table_name, "model"),))
        return written
    except psycopg2.Error as exc:
        # The whole transaction is rolled back by the caller's `begin()`; say why in words.
        detail = str(exc).strip().splitlines()[0]
        raise BatchError(f"{table.name} batch was refused by the database: {detail}") from exc


def _write(conn: Connection, table: Table, frame: pd.DataFrame) -> int:
    cols = ", ".join(table.columns)
    key = ", ".join(table.key)
    stage = f"stage_{table.name}"
    with conn.connection.driver_connection.cursor() as cur:
        cur.execute(f"create temp table if not exists {stage} (like {table.name} including defaults) on commit drop")
        cur.execute(f"truncate {stage}")
        with db.copy_allowed():  # gevent workers: see db.copy_allowed
            cur.copy_expert(f"copy {stage} ({cols}) from stdin with (format csv, null '\\N')", _csv(frame))
        if table.values:
            changed = ", ".join(f"{c} = excluded.{c}" for c in table.values)
            differs = " or ".join(f"t.{c} is distinct from excluded.{c}" for c in table.values)
            action = f"do update set {changed} where {differs}"
        else:
            action = "do nothing"
        cur.execute(f"insert into {table.name} as t ({cols}) select {cols} from {stage} on conflict ({key}) {action}")
        return cur.rowcount
