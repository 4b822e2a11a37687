"""The orders questions: SQL with bound parameters in, DataFrame out; no Dash, no cache."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from dashboard.queries import Conn

# An order that finished production this long before a window starts cannot ship or be promised in it: dispatch
# longer than this is not a lead time but a lost order. It bounds what the facts query reads.
FINISHED_BEFORE = timedelta(days=45)
_PLANTS = "(cast(:plants as text[]) is null or o.plant_id = any(cast(:plants as text[])))"
FACT_COLUMNS = [
    "order_id", "plant_id", "line_id", "kind", "customer", "material_id", "qty_ordered", "qty_produced",
    "created_at", "released_at", "planned_start", "planned_finish", "actual_start", "actual_finish", "hold_reason",
    "promised_date", "shipped", "last_issue", "issues", "open_rows",
]  # fmt: skip


_ORDER_TIMES = ["created_at", "released_at", "planned_start", "planned_finish", "actual_start", "actual_finish"]


def _epochs(alias: str, cols: list[str]) -> str:
    return ", ".join(f"extract(epoch from {alias}.{c})::float8 as {c}" for c in cols)


def _plants(plants: tuple[str, ...] | None) -> list[str] | None:
    return list(plants) if plants is not None else None  # (): none at all


def order_facts(conn: Conn, start: datetime, end: datetime, plants: tuple[str, ...] | None = None) -> pd.DataFrame:
    """One row per order that can touch [start, end): created before its end, and open or finished at most
    FINISHED_BEFORE before its start; with its deliveries summed (reversals are negative rows)."""
    query = f"""
        with o as (
            select o.* from production_order o
            where o.created_at < :end and {_PLANTS}
              and (o.actual_finish is null or o.actual_finish >= :since)),
        d as (
            select d.order_id, min(d.promised_date) as promised_date,
                   coalesce(sum(d.qty) filter (where d.goods_issue_at is not null), 0)::float8 as shipped,
                   max(d.goods_issue_at) filter (where d.qty > 0) as last_issue,
                   count(*) filter (where d.goods_issue_at is not null)::int as issues,
                   count(*) filter (where d.goods_issue_at is null)::int as open_rows
            from delivery d join o using (order_id) group by d.order_id)
        select o.order_id, o.plant_id, o.line_id, o.kind, o.customer, o.material_id,
               o.qty_ordered::float8, o.qty_produced::float8, {_epochs("o", _ORDER_TIMES)}, o.hold_reason,
               d.promised_date - date '1970-01-01' as promised_date, coalesce(d.shipped, 0) as shipped,
               extract(epoch from d.last_issue)::float8 as last_issue,
               coalesce(d.issues, 0) as issues, coalesce(d.open_rows, 0) as open_rows
        from o left join d using (order_id) order by o.order_id"""
    frame = pd.read_sql(
        sa.text(query), conn, params={"end": end, "since": start - FINISHED_BEFORE, "plants": _plants(plants)}
    )
    # Times travel as epoch seconds and dates as day numbers, turned into datetimes here in one vectorised step:
    # a Python datetime with a zone per value cost most of this question's time (tens of thousands of rows).
    for col in [*_ORDER_TIMES, "last_issue"]:
        frame[col] = pd.to_datetime((frame[col].astype("float64") * 1e6).round(), unit="us", utc=True)
    frame["promised_date"] = pd.to_datetime(frame["promised_date"].astype("float64"), unit="D")
    return frame[FACT_COLUMNS]


def order_search(conn: Conn, text: str, plants: tuple[str, ...] | None = None, limit: int = 20) -> pd.DataFrame:
    """Orders whose id, material or customer contains ``text`` (newest first), for the trace's search box."""
    return pd.read_sql(
        sa.text(
            f"""select o.order_id, o.plant_id, o.material_id, o.customer, o.kind, o.created_at
                from production_order o
                where {_PLANTS} and (o.order_id ilike :pat or o.material_id ilike :pat or o.customer ilike :pat)
                order by o.created_at desc, o.order_id limit :limit"""
        ),
        conn,
        params={"pat": "%" + _escape_like(text) + "%", "plants": _plants(plants), "limit": limit},
    )


def _escape_like(text: str) -> str:
    """What a person typed, matched literally: % and _ are not wildcards here."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def order_trace(conn: Conn, order_id: str, plants: tuple[str, ...] | None = None) -> dict[str, pd.DataFrame]:
    """One order (empty when unknown or out of scope), the machine runs that made it and its deliveries."""
    params = {"id": order_id, "plants": _plants(plants)}
    order = pd.read_sql(
        sa.text(
            f"""select o.order_id, o.plant_id, o.line_id, o.kind, o.customer, o.material_id, o.qty_ordered::float8,
                       o.qty_produced::float8, o.created_at, o.released_at, o.planned_start, o.planned_finish,
                       o.actual_start, o.actual_finish, o.hold_reason, p.tz
                from production_order o join plant p using (plant_id) where o.order_id = :id and {_PLANTS}"""
        ),
        conn,
        params=params,
    )
    if order.empty:
        return {"order": order, "runs": pd.DataFrame(), "deliveries": pd.DataFrame()}
    runs = pd.read_sql(
        sa.text(
            """select r.machine_id, m.name as machine, m.line_id, r.start_ts, r.end_ts, r.qty_good::float8
               from production_order_run r join machine m using (machine_id)
               where r.order_id = :id order by r.start_ts, r.machine_id"""
        ),
        conn,
        params={"id": order_id},
    )
    deliveries = pd.read_sql(
        sa.text(
            """select delivery_no, promised_date, qty::float8 as qty, goods_issue_at from delivery
               where order_id = :id order by delivery_no"""
        ),
        conn,
        params={"id": order_id},
    )
    return {"order": order, "runs": runs, "deliveries": deliveries}
