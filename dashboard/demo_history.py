"""Which spans of time the demo has simulated (table demo_history): what is still to load, and how far it got."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from dashboard.queries import Conn

Span = tuple[pd.Timestamp, pd.Timestamp]
DAY = pd.Timedelta(days=1)


def history_start(now: pd.Timestamp, days: int) -> pd.Timestamp:
    """Where DEMO_DAYS of history begin: midnight UTC ``days - 1`` days before today."""
    return now.floor("D") - pd.Timedelta(days=days - 1)


def spans(conn: Conn) -> list[Span]:
    rows = conn.execute(sa.text("select start_ts, end_ts from demo_history order by start_ts")).all()
    return [(pd.Timestamp(a).tz_convert("UTC"), pd.Timestamp(b).tz_convert("UTC")) for a, b in rows]


def missing(done: list[Span], start: pd.Timestamp, end: pd.Timestamp) -> list[Span]:
    """The parts of [start, end) no span in ``done`` covers, oldest first."""
    holes, at = [], start
    for a, b in sorted(done):
        if b <= at or a >= end:
            continue
        if a > at:
            holes.append((at, a))
        at = max(at, b)
    if at < end:
        holes.append((at, end))
    return holes


def newest_chunk(holes: list[Span]) -> Span | None:
    """The newest piece still to load, at most one UTC day and never across midnight: recent days come first."""
    if not holes:
        return None
    a, b = holes[-1]
    return max(a, (b - pd.Timedelta(microseconds=1)).floor("D")), b


def covered(done: list[Span], start: pd.Timestamp, end: pd.Timestamp) -> pd.Timedelta:
    """How much of [start, end) the spans cover."""
    gaps = sum((b - a for a, b in missing(done, start, end)), pd.Timedelta(0))
    return (end - start) - gaps


def record(conn: Conn, start: pd.Timestamp, end: pd.Timestamp) -> None:
    conn.execute(
        sa.text(
            "insert into demo_history (start_ts, end_ts) values (:a, :b)"
            " on conflict (start_ts) do update set end_ts = greatest(demo_history.end_ts, excluded.end_ts)"
        ),
        {"a": start, "b": end},
    )


def extend(conn: Conn, old_end: pd.Timestamp, new_end: pd.Timestamp) -> None:
    """Live data written from ``old_end`` to ``new_end``: the span that ended at ``old_end`` now ends later
    (or a new span starts there, when the first hours were already loaded by an earlier run)."""
    if new_end <= old_end:
        return
    done = conn.execute(sa.text("update demo_history set end_ts = :b where end_ts = :a"), {"a": old_end, "b": new_end})
    if done.rowcount == 0:
        record(conn, old_end, new_end)


def progress(conn: Conn, now: pd.Timestamp, days: int) -> tuple[int, int] | None:
    """(days loaded, DEMO_DAYS) while the history is still loading; None once it is all there (or the table is
    missing, as on a database the demo never touched)."""
    if conn.execute(sa.text("select to_regclass('demo_history')")).scalar() is None:
        return None
    start = history_start(now, days)
    have = covered(spans(conn), start, now)
    if now - start - have < pd.Timedelta(minutes=15):  # live data lags by a few seconds; that is not loading
        return None
    return min(days - 1, int(days * (have / (now - start)))), days
