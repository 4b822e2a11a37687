"""Alerts in running apps: two processes evaluate once per period and send once; a restart re-sends nothing; the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import sqlalchemy as sa

from dashboard.alerts import routes, rules
from dashboard.alerts.rules import Rule
from tests.conftest import ROOT, free_port, known_database
from tests.receivers import Webhook


def _wait(check, timeout: float = 40.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _evaluations(engine) -> list:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(sa.text("select slot, pid from alert_evaluation order by slot")).all()


def test_two_processes_one_evaluation_and_one_message_and_a_restart_resends_nothing(pg_admin_url, app_factory):
    """Paint (M2 at BER: 40 L, reorder point 50) is below its reorder point from the start."""
    with known_database(pg_admin_url) as engine:
        url = engine.url.render_as_string(hide_password=False)
        rules.add(engine, Rule(0, "reorder BER", "stock_reorder", "plant", "BER"))
        hook = Webhook(free_port()).start()
        try:
            routes.add(engine, "webhook", hook.url, "BER", "warning")
            a = app_factory(url, ALERT_EVAL_SECONDS="2")
            b = app_factory(url, ALERT_EVAL_SECONDS="2")
            _wait(lambda: len(hook.bodies) >= 1)
            first = _evaluations(engine)
            _wait(lambda: len(_evaluations(engine)) >= len(first) + 4)  # four more periods with both running
            assert len(hook.bodies) == 1
            assert "[FIRING] WARNING BER stock BER/M2: reorder BER" in hook.bodies[0]["text"]
            evals = _evaluations(engine)
            slots = [e.slot for e in evals]
            assert len(slots) == len(set(slots))  # one evaluation per period, whoever did it
            assert {e.pid for e in evals} <= {a.proc.pid, b.proc.pid}
            a.stop()
            b.stop()
            c = app_factory(url, ALERT_EVAL_SECONDS="2")
            _wait(lambda: any(e.pid == c.proc.pid for e in _evaluations(engine)))
            _wait(lambda: len([e for e in _evaluations(engine) if e.pid == c.proc.pid]) >= 3)
            assert len(hook.bodies) == 1
            with engine.connect() as conn:
                inst = conn.execute(sa.text("select state, episode from alert_instance")).one()
            assert tuple(inst) == ("firing", 1)
        finally:
            hook.stop()


def _cli(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | {"DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "dashboard.alerts", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_cli_adds_lists_runs_and_removes_rules_and_refuses_bad_ones_in_one_line(pg_admin_url):
    with known_database(pg_admin_url) as engine:
        url = engine.url.render_as_string(hide_password=False)
        added = _cli(
            url,
            "add",
            "--name",
            "paint low",
            "--kind",
            "stock_reorder",
            "--subject-type",
            "plant",
            "--subject",
            "BER",
            "--severity",
            "critical",
        )
        assert added.returncode == 0, added.stderr
        rule_id = int(added.stdout.split()[1].rstrip(":"))
        listed = _cli(url, "list")
        assert "critical" in listed.stdout and "paint low" in listed.stdout
        ran = _cli(url, "run")
        assert ran.returncode == 0, ran.stderr
        assert "1 rule(s) evaluated" in ran.stdout and "1 event(s)" in ran.stdout
        bad = _cli(url, "add", "--name", "x", "--kind", "oee", "--subject-type", "plant", "--threshold", "60")
        assert bad.returncode == 1
        assert bad.stderr.strip() == "error: oee thresholds are fractions between 0 and 1 (0.6 = 60 %), not 60.0"
        wrong = _cli(url, "add", "--name", "x", "--kind", "oee", "--subject-type", "sensor")
        assert wrong.returncode == 1 and wrong.stderr.count("\n") == 1 and "not a sensor" in wrong.stderr
        route = _cli(url, "add-route", "--channel", "email", "--target", "nobody")
        assert route.returncode == 1 and "not an email address" in route.stderr
        assert _cli(url, "remove", str(rule_id)).returncode == 0
        gone = _cli(url, "remove", str(rule_id))
        assert gone.returncode == 1 and gone.stderr.strip() == f"error: there is no rule {rule_id}"
        assert _cli(url, "defaults").stdout.strip() == "7 default rules installed"
