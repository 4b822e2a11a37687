"""Alert messages reach a real SMTP server and a real HTTP receiver: routed, once each, retried while it is down."""

from __future__ import annotations

import ssl
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from dashboard import data
from dashboard.alerts import evaluate, outbox, routes, rules
from dashboard.alerts.rules import Rule
from dashboard.config import Settings
from tests import alerts_known
from tests.alerts_known import T0
from tests.conftest import free_port
from tests.receivers import Webhook, self_signed, smtp_server

BASE = "http://dash.example"


@pytest.fixture
def plant(db_engine):
    """tests/alerts_known.py's plant: material MAT at P falls below its reorder point at minute 10, back at 30."""
    alerts_known.load(db_engine)
    data.init_app(Flask("t"), db_engine, Settings(refresh_seconds=5))
    rules.add(db_engine, Rule(0, "reorder P", "stock_reorder", "plant", "P", severity="warning"))
    return db_engine


def _at(engine, minute: int) -> evaluate.Summary:
    return evaluate.cycle(engine, T0 + timedelta(minutes=minute), 60, BASE)


def test_email_arrives_once_at_a_real_smtp_server_firing_then_resolved(plant):
    port = free_port()
    controller, inbox = smtp_server(port)
    try:
        routes.add(plant, "email", "ops@example.com", "P", "info")
        smtp = f"smtp://127.0.0.1:{port}"
        assert _at(plant, 10).queued == 1
        assert outbox.deliver(plant, smtp, "alerts@example.com", 1) == 1
        assert outbox.deliver(plant, smtp, "alerts@example.com", 1) == 0  # nothing twice
        _at(plant, 11)
        _at(plant, 30)
        assert outbox.deliver(plant, smtp, "alerts@example.com", 1) == 1
    finally:
        controller.stop()
    assert [m["Subject"] for m in inbox.messages] == [
        "[FIRING] WARNING P stock P/MAT: reorder P",
        "[RESOLVED] WARNING P stock P/MAT: reorder P",
    ]
    assert inbox.recipients == [["ops@example.com"]] * 2
    first = inbox.messages[0]
    assert first["From"] == "alerts@example.com"
    body = first.get_content()
    assert "Below reorder point is 450 on hand (since 2026-03-02 06:10 UTC)." in body
    assert f"{BASE}/inventory#range=7d&plant=P" in body


def test_email_over_starttls_with_a_checked_certificate(plant, tmp_path, monkeypatch):
    cert, key = self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    port = free_port()
    controller, inbox = smtp_server(port, tls)
    try:
        routes.add(plant, "email", "ops@example.com", None, "warning")
        _at(plant, 10)
        # Without trusting the certificate the send fails and is kept for a retry ...
        assert outbox.deliver(plant, f"smtp+starttls://127.0.0.1:{port}", "alerts@example.com", 1) == 0
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # ... and trusting it, the retry goes through
        later = T0 + timedelta(days=365 * 10)
        assert outbox.deliver(plant, f"smtp+starttls://127.0.0.1:{port}", "alerts@example.com", 1, later) == 1
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    with plant.connect() as conn:
        row = conn.execute(sa.text("select attempts, last_error from alert_outbox")).one()
    assert row.attempts == 2 and row.last_error is None


def test_webhook_down_is_retried_with_back_off_and_arrives_once_it_is_back(plant):
    hook = Webhook(free_port())
    routes.add(plant, "webhook", hook.url, "P", "warning")
    _at(plant, 10)
    with plant.connect() as conn:
        queued_at = conn.execute(sa.text("select next_try from alert_outbox")).scalar_one()
    assert outbox.deliver(plant, "", "", 30, queued_at) == 0  # nobody listening
    with plant.connect() as conn:
        row = conn.execute(sa.text("select attempts, next_try, last_error from alert_outbox")).one()
    assert row.attempts == 1 and row.next_try == queued_at + timedelta(seconds=30)
    assert "unreachable" in row.last_error
    assert outbox.deliver(plant, "", "", 30, queued_at + timedelta(seconds=31)) == 0  # still down: wait 60 s now
    hook.start()
    try:
        assert outbox.deliver(plant, "", "", 30, queued_at + timedelta(seconds=60)) == 0  # not due yet
        assert outbox.deliver(plant, "", "", 30, queued_at + timedelta(seconds=91)) == 1
        assert outbox.deliver(plant, "", "", 30, queued_at + timedelta(days=1)) == 0
    finally:
        hook.stop()
    assert len(hook.bodies) == 1
    assert set(hook.bodies[0]) == {"text"}  # what Slack and Teams incoming webhooks both accept
    assert hook.bodies[0]["text"].startswith("[FIRING] WARNING P stock P/MAT: reorder P\n")
    assert hook.bodies[0]["text"].endswith(f"{BASE}/inventory#range=7d&plant=P")


@pytest.mark.parametrize("attempts, seconds", [(1, 30), (2, 60), (3, 120), (8, 3600), (20, 3600)])
def test_back_off_doubles_up_to_an_hour(attempts, seconds):
    assert outbox.backoff(attempts, 30) == timedelta(seconds=seconds)


def test_routing_by_plant_and_severity_and_silences(plant):
    """Plant Q's people never get plant P's alerts; a route from 'critical' up ignores a warning."""
    routes.add(plant, "email", "q-team@example.com", "Q", "info")
    routes.add(plant, "webhook", "http://127.0.0.1:9/critical", "P", "critical")
    routes.add(plant, "email", "p-team@example.com", "P", "warning")
    rules.add(plant, Rule(0, "safety P", "stock_safety", "plant", "P", severity="critical"))
    _at(plant, 10)  # reorder (warning) fires
    _at(plant, 20)  # safety (critical) fires
    with plant.begin() as conn:
        safety = conn.execute(sa.text("select rule_id from alert_rule where name = 'safety P'")).scalar_one()
        conn.execute(
            sa.text("insert into alert_silence (rule_id, until_ts, created_by) values (:r, :u, 'test')"),
            {"r": safety, "u": T0 + timedelta(hours=1)},
        )
    _at(plant, 30)  # both resolve; the silenced rule's message is not queued
    with plant.connect() as conn:
        sent = conn.execute(
            sa.text(
                """select r.name, o.event, t.target from alert_outbox o join alert_route t using (route_id)
               join alert_instance i using (instance_id) join alert_rule r using (rule_id) order by o.outbox_id"""
            )
        ).all()
    assert [tuple(s) for s in sent] == [
        ("reorder P", "firing", "p-team@example.com"),
        ("safety P", "firing", "http://127.0.0.1:9/critical"),
        ("safety P", "firing", "p-team@example.com"),
        ("reorder P", "resolved", "p-team@example.com"),
    ]


def test_bad_routes_are_refused_in_words(plant):
    with pytest.raises(routes.RouteError, match="not an email address"):
        routes.add(plant, "email", "nobody", None)
    with pytest.raises(routes.RouteError, match="no plant 'XX'"):
        routes.add(plant, "email", "a@b.example", "XX")
    with pytest.raises(routes.RouteError, match="must start with https://"):
        routes.add(plant, "webhook", "ftp://x", None)


def test_switching_a_rule_off_resolves_its_open_alerts_and_says_so(plant):
    routes.add(plant, "email", "p-team@example.com", "P", "info")
    _at(plant, 10)
    with plant.begin() as conn:
        conn.execute(sa.text("update alert_rule set enabled = false"))
    assert _at(plant, 11).events == 1
    with plant.connect() as conn:
        assert conn.execute(sa.text("select state from alert_instance")).scalar_one() == "resolved"
        assert [r[0] for r in conn.execute(sa.text("select event from alert_outbox order by 1"))] == [
            "firing",
            "resolved",
        ]
