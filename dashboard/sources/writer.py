"""Write typed rows: COPY straight into the table where the range holds no rows yet, else a staged upsert."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd
import psycopg2
import pyarrow as pa
import pyarrow.csv as pcsv
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dashboard import db, ingest

_WHOLE = {"total_count", "good_count", "startup_rejects", "sensor_id"}
_TIME = {
    "production": "ts",
    "downtime": "start_ts",
    "telemetry": "ts",
    "inventory_level": "ts",
    "inventory_movement": "ts",
}


@dataclass
class Counts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0

    def __iadd__(self, other: Counts) -> Counts:
        self.new += other.new
        self.changed += other.changed
        self.unchanged += other.unchanged
        return self

    @property
    def written(self) -> int:
        return self.new + self.changed


def _csv(frame: pd.DataFrame, columns: tuple[str, ...]) -> io.BytesIO:
    """CSV through Arrow's writer (C++). Times go as UTC wall clock without a zone ('2026-01-14 22:30:00.000000'),
    which _copy reads in UTC: Arrow formats zoned times ten times slower than plain ones."""
    arrays = {}
    for col in columns:
        s = frame[col]
        if col in _WHOLE:
            arrays[col] = pa.array(s.to_numpy(dtype="int64"), pa.int64())
        elif isinstance(s.dtype, pd.DatetimeTZDtype):
            arrays[col] = pa.array(s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]"))
        else:
            arrays[col] = pa.Array.from_pandas(s)
    buf = io.BytesIO()
    pcsv.write_csv(pa.table(arrays), buf, pcsv.WriteOptions(include_header=False, quoting_style="needed"))
    buf.seek(0)
    return buf


def _copy(cur: psycopg2.extensions.cursor, target: str, columns: tuple[str, ...], data: io.BytesIO) -> None:
    cur.execute("set local timezone = 'UTC'")  # the times in ``data`` are UTC wall clock; reset at commit
    with db.copy_allowed():  # gevent workers: see db.copy_allowed
        cur.copy_expert(f"copy {target} ({', '.join(columns)}) from stdin with (format csv)", data)


def _range_is_empty(conn: Connection, table: ingest.Table, frame: pd.DataFrame) -> bool:
    """No row yet for these machines/sensors/plants between the chunk's first and last time."""
    entity, ts = table.key[0], _TIME[table.name]
    found = conn.execute(
        sa.text(f"select exists(select 1 from {table.name} where {entity} = any(:ids) and {ts} between :lo and :hi)"),
        {
            "ids": [v.item() if hasattr(v, "item") else v for v in frame[entity].unique()],
            "lo": frame[ts].min().to_pydatetime(),
            "hi": frame[ts].max().to_pydatetime(),
        },
    ).scalar()
    return not found


class Writer:
    """Writes the chunks of one file in order. A file sorted by time (the usual export) goes almost all by COPY:
    rows later than anything this file wrote so far are checked against the rows that were there before, and a
    chunk's few rows that share a time with the previous chunk take the staged upsert."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.high: dict[str, pd.Timestamp] = {}

    def write(self, table_name: str, frame: pd.DataFrame) -> Counts:
        if frame.empty:
            return Counts()
        ts = _TIME[table_name]
        high = self.high.get(table_name)
        later = frame[ts] > high if high is not None else pd.Series(True, index=frame.index)
        counts = Counts()
        if (~later).any():
            counts += _staged(self.conn, table_name, frame[~later])
        if later.any():
            head = frame[later]
            counts += _fast(self.conn, table_name, head)
            self.high[table_name] = head[ts].max() if high is None else max(high, head[ts].max())
        return counts


def write(conn: Connection, table_name: str, frame: pd.DataFrame) -> Counts:
    """Write ``frame`` (validated rows) into ``table_name`` inside the caller's transaction."""
    return Writer(conn).write(table_name, frame)


def _staged(conn: Connection, table_name: str, frame: pd.DataFrame) -> Counts:
    table = ingest.TABLES[table_name]
    return _upsert(conn, table, _csv(frame, table.columns), len(frame))


def _fast(conn: Connection, table_name: str, frame: pd.DataFrame) -> Counts:
    table = ingest.TABLES[table_name]
    data = _csv(frame, table.columns)
    if _range_is_empty(conn, table, frame):
        savepoint = conn.begin_nested()
        try:
            with conn.connection.driver_connection.cursor() as cur:
                _copy(cur, table.name, table.columns, data)
            savepoint.commit()
            return Counts(new=len(frame))
        except psycopg2.errors.UniqueViolation:  # an unsorted file: the same key in an earlier chunk
            savepoint.rollback()
            data.seek(0)
    return _upsert(conn, table, data, len(frame))


def _upsert(conn: Connection, table: ingest.Table, data: io.BytesIO, n: int) -> Counts:
    cols, key = ", ".join(table.columns), ", ".join(table.key)
    stage = f"import_stage_{table.name}"
    changed = ", ".join(f"{c} = excluded.{c}" for c in table.values)
    differs = " or ".join(f"t.{c} is distinct from excluded.{c}" for c in table.values)
    with conn.connection.driver_connection.cursor() as cur:
        cur.execute(f"create temp table if not exists {stage} (like {table.name} including defaults) on commit drop")
        cur.execute(f"truncate {stage}")
        _copy(cur, stage, table.columns, data)
        cur.execute(
            f"""with up as (insert into {table.name} as t ({cols}) select {cols} from {stage}
                            on conflict ({key}) do update set {changed} where {differs}
                            returning (xmax = 0) as fresh)
                select count(*) filter (where fresh), count(*) filter (where not fresh) from up"""
        )
        new, upd = cur.fetchone()
    return Counts(new=new, changed=upd, unchanged=n - new - upd)
