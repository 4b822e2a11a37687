"""Sending queued alert messages: each once, retried with back-off while the receiver is down, from any process."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dashboard.notify import mail, webhook

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 20  # with doubling back-off from ALERT_RETRY_SECONDS (capped at an hour): about a day of trying
MAX_BACKOFF_S = 3600
BATCH = 20


def backoff(attempts: int, retry_s: int) -> timedelta:
    """Wait before the next try after ``attempts`` failures: retry_s, 2x, 4x, ... up to an hour."""
    return timedelta(seconds=min(retry_s * 2 ** max(attempts - 1, 0), MAX_BACKOFF_S))


def deliver(owner: Engine, smtp_url: str, sender: str, retry_s: int, now: datetime | None = None) -> int:
    """Send what is due; return how many went out. Rows are taken FOR UPDATE SKIP LOCKED, so two processes never send
    the same one, and a row is marked sent in the transaction that took it: a restart repeats nothing it finished."""
    sent = 0
    while True:
        now_ = now or datetime.now(UTC)
        with owner.begin() as conn:
            rows = conn.execute(
                sa.text(
                    """select o.outbox_id, o.attempts, o.body, r.channel, r.target
                       from alert_outbox o join alert_route r using (route_id)
                       where o.sent_at is null and o.failed_at is null and o.next_try <= :now
                       order by o.outbox_id limit :n for update of o skip locked"""
                ),
                {"now": now_, "n": BATCH},
            ).all()
            for row in rows:
                error = _send(row.channel, row.target, row.body, smtp_url, sender)
                attempts = row.attempts + 1
                if error is None:
                    sent += 1
                    conn.execute(
                        sa.text("update alert_outbox set attempts = :a, sent_at = :t, last_error = null"
                                " where outbox_id = :i"),
                        {"a": attempts, "t": datetime.now(UTC), "i": row.outbox_id},
                    )
                    continue
                gave_up = attempts >= MAX_ATTEMPTS
                log.warning("alert message %s to %s failed (try %d%s): %s", row.outbox_id, row.channel, attempts,
                            ", giving up" if gave_up else "", error)
                conn.execute(
                    sa.text("update alert_outbox set attempts = :a, next_try = :n, last_error = :e,"
                            " failed_at = case when :g then now() end where outbox_id = :i"),
                    {"a": attempts, "n": now_ + backoff(attempts, retry_s), "e": error[:500], "g": gave_up,
                     "i": row.outbox_id},
                )
        if len(rows) < BATCH:
            return sent


def _send(channel: str, target: str, body: dict, smtp_url: str, sender: str) -> str | None:
    """None when sent, else why not in words."""
    try:
        if channel == "webhook":
            webhook.post(target, webhook.chat_payload(body["text"]))
        else:
            if not smtp_url:
                return "SMTP_URL is not set"
            mail.send(smtp_url, mail.message(sender, [target], body["title"], body["text"]))
        return None
    except (webhook.WebhookError, mail.MailError, ValueError) as exc:
        return str(exc)
