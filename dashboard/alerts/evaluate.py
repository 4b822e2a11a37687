"""One evaluation: every enabled rule against its numbers, instances stepped, changes and messages written at once."""

from __future__ import annotations

import json
import math
import os
import socket
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from psycopg2.extras import execute_values
from sqlalchemy.engine import Connection, Engine

from dashboard.alerts import measure, messages, rules, state
from dashboard.alerts.state import ACTIVE, Instance, Timing

LOCK_KEY = 727_014  # pg_try_advisory_xact_lock: one evaluator at a time across every process and host
SEVERITY_RANK = {s: i for i, s in enumerate(rules.SEVERITIES)}
_INSTANCE_COLS = ("state", "episode", "started", "fired", "ended", "ok_since", "value", "held")


@dataclass
class Summary:
    ran: bool  # False: another process had the lock or had already done this slot
    slot: int
    rules: int = 0
    changed: int = 0
    events: int = 0
    queued: int = 0
    took_ms: float = 0.0


def cycle(owner: Engine, now: datetime, period_s: int, base_url: str) -> Summary:
    """Evaluate once for the slot ``now`` falls in, unless another process holds the lock or did this slot already.

    The slot claim, the new states and the messages to send commit in one transaction: a crash leaves none of them."""
    slot = int(now.timestamp()) // period_s
    at = datetime.fromtimestamp(slot * period_s, tz=UTC)  # every process agrees on the instant it evaluates
    t0 = time.perf_counter()
    with owner.begin() as conn:
        if not conn.execute(sa.text("select pg_try_advisory_xact_lock(:k)"), {"k": LOCK_KEY}).scalar():
            return Summary(False, slot)
        claimed = conn.execute(
            sa.text(
                "insert into alert_evaluation (slot, at, host, pid, rules, changed, took_ms)"
                " values (:s, :at, :h, :p, 0, 0, 0) on conflict do nothing returning slot"
            ),
            {"s": slot, "at": at, "h": socket.gethostname()[:100], "p": os.getpid()},
        ).first()
        if claimed is None:
            return Summary(False, slot)
        summary = evaluate(conn, at, base_url)
        summary.slot, summary.took_ms = slot, (time.perf_counter() - t0) * 1000
        conn.execute(
            sa.text("update alert_evaluation set rules = :r, changed = :c, took_ms = :t where slot = :s"),
            {"r": summary.rules, "c": summary.changed, "t": summary.took_ms, "s": slot},
        )
        conn.execute(sa.text("delete from alert_evaluation where at < :old"), {"old": _days_ago(at)})
    return summary


def _days_ago(at: datetime, days: int = 2) -> datetime:
    return datetime.fromtimestamp(at.timestamp() - days * 86400, tz=UTC)


def evaluate(conn: Connection, at: datetime, base_url: str) -> Summary:
    """Step every instance of every enabled rule at ``at``; write what changed and queue the messages due."""
    active_rules = rules.load(conn)
    tables = measure.tables(active_rules, at)
    current = _instances(conn)
    changed: list[tuple[rules.Rule, str, str, Instance, Instance, str | None]] = []
    for rule in active_rules:
        kind = rules.KINDS[rule.kind]
        timing = Timing(rule.for_s, rule.clear_s)
        seen = set()
        for subject, plant, value, limit in tables[measure.table_key(rule)].rows(rule):
            seen.add(subject)
            old = current.get((rule.rule_id, subject), (plant, state.Instance()))[1]
            breach = state.breaching(value, limit, kind.below, rule.hysteresis, old.state in ACTIVE)
            new, event = state.step(old, breach, value, at, timing)
            if new != old:
                changed.append((rule, subject, plant, old, new, event))
        # An active instance whose subject has no number now (no planned time, no readings) is not breaching.
        for (rule_id, subject), (plant, old) in current.items():
            if rule_id == rule.rule_id and subject not in seen and (old.state in ACTIVE or old.held):
                new, event = state.step(old, False, None, at, timing)
                if new != old:
                    changed.append((rule, subject, plant, old, new, event))
    ids = _write(conn, changed, at)
    queued = enqueue(conn, changed, ids, at, base_url)
    events = sum(1 for c in changed if c[5])
    return Summary(True, 0, len(active_rules), len(changed), events, queued)


def _instances(conn: Connection) -> dict[tuple[int, str], tuple[str, Instance]]:
    # FOR UPDATE: a person resolving an alert by hand meanwhile waits for this transaction rather than being undone.
    rows = conn.execute(
        sa.text(f"select rule_id, subject, plant_id, {', '.join(_INSTANCE_COLS)} from alert_instance for update")
    )
    return {(r.rule_id, r.subject): (r.plant_id, Instance(*r[3:])) for r in rows}


def _write(conn: Connection, changed: list, at: datetime) -> dict[tuple[int, str], int]:
    if not changed:
        return {}
    rows = [(r.rule_id, subj, plant, *(_finite(v) if k == "value" else v for k, v in asdict(new).items()), at)
            for r, subj, plant, _old, new, _e in changed]
    cols = ", ".join(_INSTANCE_COLS)
    keep_ack = ", ".join(
        f"{c} = case when excluded.episode <> i.episode then null else i.{c} end"
        for c in ("acked_by", "acked_at", "ack_note", "resolved_by")
    )
    cur = conn.connection.dbapi_connection.cursor()
    try:
        out = execute_values(
            cur,
            f"""insert into alert_instance as i (rule_id, subject, plant_id, {cols}, updated) values %s
                on conflict (rule_id, subject) do update set
                {", ".join(f"{c} = excluded.{c}" for c in _INSTANCE_COLS)}, updated = excluded.updated, {keep_ack}
                returning rule_id, subject, instance_id""",
            rows,
            fetch=True,
        )
    finally:
        cur.close()
    return {(r, s): i for r, s, i in out}


def _finite(v: float | None) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def enqueue(conn: Connection, changed: list, ids: dict, at: datetime, base_url: str) -> int:
    """A message per event and matching route, unless a silence covers it; the unique key forbids a second one."""
    due = [c for c in changed if c[5]]
    if not due:
        return 0
    routes = conn.execute(sa.text("select route_id, plant_id, min_severity from alert_route")).all()
    silences = conn.execute(
        sa.text("select rule_id, subject, plant_id from alert_silence where until_ts > :at"), {"at": at}
    ).all()
    rows = []
    for rule, subject, plant, _old, new, event in due:
        if any(s.rule_id in (None, rule.rule_id) and s.subject in (None, subject) and s.plant_id in (None, plant)
               for s in silences):
            continue
        body = json.dumps(messages.body(rule, subject, plant, new, event, base_url))
        for r in routes:
            if r.plant_id in (None, plant) and SEVERITY_RANK[rule.severity] >= SEVERITY_RANK[r.min_severity]:
                rows.append((ids[(rule.rule_id, subject)], new.episode, event, r.route_id, body, at))
    if rows:
        cur = conn.connection.dbapi_connection.cursor()
        try:
            execute_values(
                cur,
                "insert into alert_outbox (instance_id, episode, event, route_id, body, next_try) values %s"
                " on conflict do nothing",
                rows,
            )
        finally:
            cur.close()
    return len(rows)
