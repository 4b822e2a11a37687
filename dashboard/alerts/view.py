"""Alerts as people see them: lists, the bell's count and the wall's band, narrowed to their plants; and their actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from dashboard import access, cache, data
from dashboard.alerts import evaluate, rules, runner, state
from dashboard.alerts.measure import describe
from dashboard.alerts.state import Instance

RECENT = timedelta(days=7)  # resolved alerts stay on the list this long
SILENCES = {"1h": ("1 hour", 3600), "4h": ("4 hours", 4 * 3600), "1d": ("1 day", 86400), "7d": ("7 days", 7 * 86400)}
_COLUMNS = """i.instance_id, i.rule_id, r.name as rule, r.kind, r.severity, r.manual_resolve, i.subject, i.plant_id,
              i.state, i.episode, i.started, i.fired, i.ended, i.value, i.acked_by, i.acked_at, i.ack_note,
              i.resolved_by,
              exists (select 1 from alert_silence s where s.until_ts > now()
                      and (s.rule_id is null or s.rule_id = i.rule_id)
                      and (s.subject is null or s.subject = i.subject)
                      and (s.plant_id is null or s.plant_id = i.plant_id)) as silenced"""


class ActionError(ValueError):
    """An action this person may not take, or on an alert they cannot see; said in words on the page."""


def _visible(plants: tuple[str, ...] | None) -> list[str] | None:
    chosen = access.plants(plants)
    return None if chosen is None else list(chosen)


def _list(conn: sa.Connection | sa.Engine, plants: list[str] | None, since: datetime) -> pd.DataFrame:
    frame = pd.read_sql(
        sa.text(
            f"""select {_COLUMNS} from alert_instance i join alert_rule r using (rule_id)
                where (i.state in ('pending', 'firing') or (i.state = 'resolved' and i.ended >= :since))
                  and (cast(:plants as text[]) is null or i.plant_id = any(cast(:plants as text[])))
                order by case i.state when 'firing' then 0 when 'pending' then 1 else 2 end,
                         case r.severity when 'critical' then 0 when 'warning' then 1 else 2 end,
                         coalesce(i.fired, i.started) desc"""
        ),
        conn,
        params={"plants": plants, "since": since},
    )
    frame["value_text"] = [describe(k, v) for k, v in zip(frame["kind"], frame["value"], strict=True)]
    return frame


def alerts(plants: tuple[str, ...] | None = None, now: datetime | None = None, fresh: bool = False) -> pd.DataFrame:
    """Firing, pending and recently resolved alerts of the plants asked for that this person may see; shared by every
    screen for one refresh interval, unless ``fresh`` (right after this person changed one)."""
    visible = _visible(plants)
    now = cache.live_now(data.settings().refresh_seconds, now)
    if fresh:
        return _list(data.engine(), visible, now - RECENT)
    key = cache.make_key("alerts", visible, now)
    return cache.query_cache.get_or_compute(key, lambda: _list(data.engine(), visible, now - RECENT),
                                            data.settings().refresh_seconds + 2)


def firing(plants: tuple[str, ...] | None = None) -> pd.DataFrame:
    frame = alerts(plants)
    return frame[frame["state"] == "firing"].reset_index(drop=True)


def subject_text(subject: str) -> str:
    what, _, ident = subject.partition(":")
    return f"{what} {ident}" if what != "stock" else f"stock {ident.replace('/', ' · ')}"


# -- actions: people only (a wall token cannot), on alerts of their own plants, through the owner's connection
def _row(conn: sa.Connection, instance_id: int) -> sa.Row:
    who = access.current()
    if who.wall:
        raise ActionError("A wall screen cannot act on alerts.")
    row = conn.execute(
        sa.text(f"select {_COLUMNS}, i.ok_since, i.held from alert_instance i join alert_rule r using (rule_id)"
                " where i.instance_id = :i for update of i"),
        {"i": instance_id},
    ).first()
    if row is None or (who.plants is not None and row.plant_id not in who.plants):
        raise ActionError("There is no such alert.")  # another plant's alert does not exist for this person
    return row


def acknowledge(instance_id: int, note: str, now: datetime | None = None) -> None:
    with runner.owner().begin() as conn:
        row = _row(conn, instance_id)
        if row.state not in state.ACTIVE:
            raise ActionError("Only a pending or firing alert can be acknowledged.")
        conn.execute(
            sa.text("update alert_instance set acked_by = :u, acked_at = :t, ack_note = :n where instance_id = :i"),
            {"u": access.current().name, "t": now or datetime.now(UTC), "n": note[:500], "i": instance_id},
        )


def resolve(instance_id: int, note: str, now: datetime | None = None) -> None:
    """Close an alert by hand where its rule allows it; it stays closed until the breach clears once."""
    at = now or datetime.now(UTC)
    with runner.owner().begin() as conn:
        row = _row(conn, instance_id)
        if not row.manual_resolve:
            raise ActionError("This rule's alerts resolve by themselves when the numbers recover.")
        old = Instance(row.state, row.episode, row.started, row.fired, row.ended, row.ok_since, row.value, row.held)
        new, event = state.resolve_by_hand(old, at)
        if new == old:
            raise ActionError("Only a pending or firing alert can be resolved.")
        who = access.current().name
        conn.execute(
            sa.text("update alert_instance set state = :s, ended = :e, ok_since = null, held = true, resolved_by = :u,"
                    " ack_note = coalesce(nullif(:n, ''), ack_note), updated = :e where instance_id = :i"),
            {"s": new.state, "e": at, "u": who, "n": note[:500], "i": instance_id},
        )
        if event:
            rule = next(r for r in rules.load(conn, enabled_only=False) if r.rule_id == row.rule_id)
            change = (rule, row.subject, row.plant_id, old, new, event)
            evaluate.enqueue(conn, [change], {(rule.rule_id, row.subject): instance_id}, at,
                             runner.settings().base_url)


def silence(instance_id: int, scope: str, duration: str, note: str, now: datetime | None = None) -> datetime:
    """No messages for this alert's rule (every subject) or this subject alone, for a while; returns until when."""
    if scope not in ("rule", "subject") or duration not in SILENCES:
        raise ActionError("Choose what to silence and for how long.")
    until = (now or datetime.now(UTC)) + timedelta(seconds=SILENCES[duration][1])
    with runner.owner().begin() as conn:
        row = _row(conn, instance_id)
        conn.execute(
            sa.text("insert into alert_silence (rule_id, subject, plant_id, until_ts, created_by, note)"
                    " values (:r, :s, :p, :u, :b, :n)"),
            {"r": row.rule_id, "s": row.subject if scope == "subject" else None, "p": row.plant_id, "u": until,
             "b": access.current().name, "n": note[:500]},
        )
    return until


def wall_band(plant_id: str) -> list[str]:
    """One line per firing alert of a plant this screen may see, most severe first."""
    if plant_id not in set(data.plants()["plant_id"]):
        raise PermissionError(f"plant {str(plant_id)[:20]!r} is not for this screen")
    rows = firing((plant_id,))
    return [
        f"{r.severity.upper()} · {r.rule} · {subject_text(r.subject)} · {r.value_text}"
        f" · since {pd.Timestamp(r.fired).tz_convert(data.plants().set_index('plant_id').loc[plant_id, 'tz']):%H:%M %Z}"
        for r in rows.itertuples()
    ]
