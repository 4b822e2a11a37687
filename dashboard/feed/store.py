"""The feed's database side: which machines exist, what a previous run left, and one transaction per batch."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dashboard import ingest
from dashboard.feed.calendar import Calendar
from dashboard.feed.messages import Count, State
from dashboard.feed.signals import MachineInfo
from dashboard.feed.tracker import Batch, Tracker


def machines(conn: Connection) -> tuple[dict[str, MachineInfo], frozenset[str]]:
    """Every machine with its plant's calendar and its sensors; and the known downtime reason codes."""
    shifts: dict[str, list] = {}
    for plant_id, starts, hours in conn.execute(sa.text("select plant_id, starts, hours from shift")):
        shifts.setdefault(plant_id, []).append((starts, float(hours)))
    sensors: dict[str, dict[str, int]] = {}
    for sensor_id, machine_id, kind in conn.execute(sa.text("select sensor_id, machine_id, kind from sensor")):
        sensors.setdefault(machine_id, {})[kind] = sensor_id
    rows = conn.execute(
        sa.text(
            "select m.machine_id, m.line_id, l.plant_id, m.ideal_cycle_s, p.tz from machine m"
            " join line l on l.line_id = m.line_id join plant p on p.plant_id = l.plant_id"
        )
    )
    out = {
        m: MachineInfo(m, line, plant, float(cycle), Calendar(tz, tuple(shifts.get(plant, ()))), sensors.get(m, {}))
        for m, line, plant, cycle, tz in rows
    }
    reasons = frozenset(conn.execute(sa.text("select reason_code from downtime_reason")).scalars())
    return out, reasons


def restore(conn: Connection, tracker: Tracker, since_ms: int, now_ms: int) -> int:
    """Give ``tracker`` the signals kept since ``since_ms`` (and the last of each kind before it), and the minutes
    and events it wrote there; returns how many signals."""
    since = _ts(since_ms)
    rows = conn.execute(
        sa.text(
            "select machine_id, kind, ts, state, reason, total, good from feed_signal where ts >= :since"
            " union all (select distinct on (machine_id, kind) machine_id, kind, ts, state, reason, total, good"
            "  from feed_signal where ts < :since order by machine_id, kind, ts desc)"
        ),
        {"since": since},
    ).all()
    signals: list[State | Count] = [
        State(m, _ms(ts), state, reason or "") if kind == "state" else Count(m, _ms(ts), total, good)
        for m, kind, ts, state, reason, total, good in rows
    ]
    written: dict[str, set[int]] = {}
    for m, ts in conn.execute(sa.text("select machine_id, ts from production where ts >= :since"), {"since": since}):
        written.setdefault(m, set()).add(_ms(ts))
    events: dict[str, dict] = {}
    # Only events that began at a state this feed took: rows from other sources are not the feed's to undo.
    for m, start, end, reason in conn.execute(
        sa.text(
            "select d.machine_id, d.start_ts, d.end_ts, d.reason_code from downtime d join feed_signal s"
            " on s.machine_id = d.machine_id and s.kind = 'state' and s.ts = d.start_ts where d.end_ts >= :since"
        ),
        {"since": since},
    ):
        events.setdefault(m, {})[_ms(start)] = (_ms(end), reason)
    tracker.restore(signals, written, events, now_ms)
    return len(signals)


def write(conn: Connection, batch: Batch) -> dict[str, int]:
    """One batch, in the caller's transaction, through the same upserts as every other source."""
    done = {}
    if batch.dropped:
        conn.execute(
            sa.text("delete from downtime where machine_id = :m and start_ts = :s"),
            [{"m": m, "s": _ts(s)} for m, s in batch.dropped],
        )
        done["downtime_dropped"] = len(batch.dropped)
    frames = {
        "feed_signal": _signals(batch.signals),
        "production": _production(batch.production),
        "downtime": _downtime(batch.downtime),
        "telemetry": _telemetry(batch.telemetry),
    }
    for table, frame in frames.items():
        if frame is not None:
            done[table] = ingest.upsert(conn, table, frame)
    return done


def heartbeat(
    conn: Connection, feed_id: str, behind_s: float, buffered: int, connected: bool, tracker: Tracker
) -> None:
    frame = pd.DataFrame(
        [
            (
                feed_id,
                pd.Timestamp.now(tz="UTC"),
                behind_s,
                buffered,
                connected,
                tracker.accepted,
                sum(tracker.rejected.values()),
            )
        ],
        columns=["feed_id", "seen_at", "behind_s", "buffered", "connected", "accepted", "rejected"],
    )
    ingest.upsert(conn, "feed_status", frame)


def status(conn: Connection) -> list[dict]:
    """Every feed's last heartbeat, for /healthz."""
    rows = conn.execute(
        sa.text(
            "select feed_id, extract(epoch from now() - seen_at) as seen_s_ago, behind_s, buffered, connected,"
            " accepted, rejected from feed_status order by feed_id"
        )
    ).mappings()
    return [dict(r) | {"seen_s_ago": round(float(r["seen_s_ago"]), 1)} for r in rows]


def status_or_none(engine: Engine) -> list[dict] | None:
    """``status`` for /healthz; None when it cannot be read (a database migrated before the feed existed)."""
    try:
        with engine.connect() as conn:
            return status(conn)
    except sa.exc.SQLAlchemyError:
        return None


def _ts(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _ms(ts: datetime) -> int:
    return round(ts.timestamp() * 1000)


def _stamps(ms: list[int]) -> pd.Series:
    return pd.Series(pd.to_datetime(ms, unit="ms", utc=True))


def _production(rows: list[tuple]) -> pd.DataFrame | None:
    if not rows:
        return None
    cols = ["machine_id", "ts", "planned_s", "run_s", "total_count", "good_count", "ideal_cycle_s"]
    f = pd.DataFrame(rows, columns=cols)
    f["ts"] = _stamps(f["ts"].tolist())
    f["startup_rejects"] = 0  # a counter cannot tell start-up rejects from other scrap
    return f


def _downtime(rows: list[tuple]) -> pd.DataFrame | None:
    if not rows:
        return None
    f = pd.DataFrame(rows, columns=["machine_id", "start_ts", "end_ts", "reason_code"])
    f["start_ts"] = _stamps(f["start_ts"].tolist())
    f["end_ts"] = _stamps(f["end_ts"].tolist())
    return f


def _telemetry(values: dict[tuple[int, int], float]) -> pd.DataFrame | None:
    if not values:
        return None
    keys = list(values)
    return pd.DataFrame(
        {
            "sensor_id": [k[0] for k in keys],
            "ts": _stamps([k[1] for k in keys]),
            "value": list(values.values()),
        }
    )


def _signals(signals: list[State | Count]) -> pd.DataFrame | None:
    if not signals:
        return None
    latest = {}
    for s in signals:  # a correction later in the batch wins
        latest[(s.machine_id, "state" if isinstance(s, State) else "count", s.ts_ms)] = s
    rows = [
        (
            m,
            kind,
            ts,
            getattr(s, "state", None),
            getattr(s, "reason", None),
            getattr(s, "total", None),
            getattr(s, "good", None),
        )
        for (m, kind, ts), s in latest.items()
    ]
    f = pd.DataFrame(rows, columns=["machine_id", "kind", "ts", "state", "reason", "total", "good"])
    f["ts"] = _stamps(f["ts"].tolist())
    f["total"] = f["total"].astype("Int64")
    f["good"] = f["good"].astype("Int64")
    return f
