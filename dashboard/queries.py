"""One function per question: SQL with bound parameters in, DataFrame out; no Dash, no cache."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

Conn = Connection | Engine

# Additive parts of OEE from raw production rows (ratios come later, in kpi.add_ratios).
RAW_PARTS = """
    sum(p.planned_s)::float8 as planned_s,
    sum(p.run_s)::float8 as run_s,
    sum(p.total_count)::float8 as total_count,
    sum(p.good_count)::float8 as good_count,
    sum(p.ideal_cycle_s * p.total_count)::float8 as ideal_run_s,
    sum(p.ideal_cycle_s * p.good_count)::float8 as good_ideal_s
"""


def _frame(conn: Conn, sql: str, **params: object) -> pd.DataFrame:
    return pd.read_sql(sa.text(sql), conn, params=params)


def plants(conn: Conn) -> pd.DataFrame:
    """Every plant with its time zone."""
    return _frame(conn, "select plant_id, name, tz from plant order by plant_id")


def plant_today(conn: Conn, now: datetime) -> pd.DataFrame:
    """OEE parts per plant from the plant's own local midnight up to ``now``."""
    return _frame(
        conn,
        f"""
        select pl.plant_id, pl.name, pl.tz,
               (date_trunc('day', cast(:now as timestamptz) at time zone pl.tz) at time zone pl.tz) as day_start,
               {RAW_PARTS}
        from plant pl
        join line l using (plant_id)
        join machine m using (line_id)
        left join production p on p.machine_id = m.machine_id
             and p.ts >= date_trunc('day', cast(:now as timestamptz) at time zone pl.tz) at time zone pl.tz
             and p.ts < :now
        group by pl.plant_id, pl.name, pl.tz
        order by pl.plant_id
        """,
        now=now,
    )


def output_trend(conn: Conn, start: datetime, end: datetime, bucket_s: int) -> pd.DataFrame:
    """Good and total count per plant in buckets of ``bucket_s`` seconds over [start, end)."""
    return _frame(
        conn,
        """
        select l.plant_id,
               to_timestamp(floor(extract(epoch from p.ts) / :bucket) * :bucket) as bucket,
               sum(p.good_count)::float8 as good_count,
               sum(p.total_count)::float8 as total_count
        from production p
        join machine m using (machine_id)
        join line l using (line_id)
        where p.ts >= :start and p.ts < :end
        group by 1, 2
        order by 1, 2
        """,
        start=start,
        end=end,
        bucket=bucket_s,
    )
