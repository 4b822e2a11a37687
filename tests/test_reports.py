"""Scheduled PDF reports: schedules worked out by hand, the page printed with the known numbers, sent once by two app
processes to a real SMTP server, not again after a restart; `run NAME --now` and 'Download PDF'."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock

import pandas as pd
import pytest
import requests
import sqlalchemy as sa

from dashboard.reports import schedule, store, web
from dashboard.reports.store import ReportError
from tests.conftest import ROOT, AppProcess, free_port, known_database
from tests.receivers import smtp_server

VIEW = "#range=custom&from=2026-01-14&to=2026-01-15"


@pytest.mark.parametrize(
    ("every", "weekday", "at", "tz", "now", "slot"),
    [
        ("daily", None, "07:00", "Europe/Berlin", "2026-01-14 06:30", "2026-01-14 06:00"),  # 07:30 in Berlin: today's
        ("daily", None, "07:00", "Europe/Berlin", "2026-01-14 05:30", "2026-01-13 06:00"),  # 06:30: yesterday's
        ("daily", None, "07:00", "Asia/Kolkata", "2026-01-14 02:00", "2026-01-14 01:30"),  # UTC+5:30
        ("weekly", 0, "07:00", "Europe/Berlin", "2026-01-14 12:00", "2026-01-12 06:00"),  # Wednesday: Monday's
        ("weekly", 2, "07:00", "Europe/Berlin", "2026-01-14 05:59", "2026-01-07 06:00"),  # Wednesday, a minute early
        ("daily", None, "02:30", "Europe/Berlin", "2026-03-29 12:00", "2026-03-29 01:00"),  # no 02:30 that day: 03:00
        ("daily", None, "02:30", "Europe/Berlin", "2026-10-25 12:00", "2026-10-25 00:30"),  # twice: the first
    ],
)
def test_due_slot_in_the_plants_own_time(every, weekday, at, tz, now, slot):
    got = schedule.due_slot(every, weekday, clock.fromisoformat(at), tz, pd.Timestamp(now, tz="UTC").to_pydatetime())
    assert got == pd.Timestamp(slot, tz="UTC").to_pydatetime()


@pytest.fixture(scope="module")
def known(pg_admin_url):
    with known_database(pg_admin_url) as engine:
        yield engine


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("x", "/", VIEW, "DET", "daily", "07:00", ["a@example.com"]), "unknown plant 'DET'"),
        (("x", "/", VIEW, "BER", "daily", "7am", ["a@example.com"]), "--at must be a time of day as HH:MM"),
        (("x", "/", VIEW, "BER", "daily", "25:00", ["a@example.com"]), "--at must be a time of day"),
        (("x", "/", VIEW, "BER", "fortnightly", "07:00", ["a@example.com"]), "--every must be daily or a weekday"),
        (("x", "/", VIEW, "BER", "daily", "07:00", ["not-an-address"]), "'not-an-address' is not an e-mail address"),
        (("x", "/wall", VIEW, "BER", "daily", "07:00", ["a@example.com"]), "unknown page '/wall'"),
        (("x", "/", "#plant=NOPE", "BER", "daily", "07:00", ["a@example.com"]), "Unknown plant 'NOPE' ignored"),
        (("bad name", "/", VIEW, "BER", "daily", "07:00", ["a@example.com"]), "is not a report name"),
    ],
)
def test_add_refuses_in_words(known, args, words):
    with pytest.raises(ReportError, match=words.replace("(", r"\(")):
        store.add(known, *args)
    assert store.get(known, args[0]) is None


def _pdf_text(blob: bytes, tmp_path) -> str:
    path = tmp_path / "r.pdf"
    path.write_bytes(blob)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout


def _wait(predicate, timeout: float) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return predicate()


@pytest.mark.browser
def test_a_scheduled_report_is_printed_and_sent_once_by_two_processes(known, tmp_path):
    berlin_now = pd.Timestamp.now(tz="Europe/Berlin") - pd.Timedelta(minutes=1)
    store.add(known, "daily-known", "/", VIEW, "BER", "daily", f"{berlin_now:%H:%M}", ["boss@example.com"])
    with known.begin() as conn:  # made yesterday, so that today's slot (a minute ago) is due
        conn.execute(sa.text("update report set created_at = now() - interval '1 day' where name = 'daily-known'"))
    controller, inbox = smtp_server(free_port())
    url = known.url.render_as_string(hide_password=False)
    env = dict(REPORT_CHECK_SECONDS="2", SMTP_URL=f"smtp://127.0.0.1:{controller.port}", REFRESH_SECONDS="60")
    apps = [AppProcess(url, **env), AppProcess(url, **env)]
    try:
        assert _wait(lambda: len(inbox.messages) >= 1, 90), "no report arrived"
        time.sleep(8)  # four more checks in each process
        assert len(inbox.messages) == 1 and inbox.recipients == [["boss@example.com"]]
        for app in apps:
            app.stop()
        apps = [AppProcess(url, **env)]  # a restart: the slot is recorded as sent
        time.sleep(8)
        assert len(inbox.messages) == 1
    finally:
        for app in apps:
            app.stop()
        controller.stop()
    msg = inbox.messages[0]
    assert msg["Subject"] == "Report: Executive overview · daily-known"
    assert "/" + VIEW in msg.get_body(("plain",)).get_content()  # a link to the live view
    attachment = next(msg.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    text = _pdf_text(attachment.get_content(), tmp_path)
    # The overview's cards, worked out by hand in test_pages (tests/known.py): 5310 / 9000 s and its factors.
    for words in ("Executive overview", "59.0 %", "75.0 %", "84.4 %", "93.2 %", "2.5 k units"):
        assert words in text, words
    assert "Dates…: 2026-01-14 00:00 to 2026-01-16 00:00" in text and "Europe/Berlin" in text
    with known.connect() as conn:
        assert conn.execute(sa.text("select count(*) from report_sent where name = 'daily-known'")).scalar() == 1


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, **env}
    return subprocess.run([sys.executable, "-m", "dashboard.reports", *args], cwd=ROOT, env=full,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.browser
def test_run_now_and_download_pdf(known, tmp_path):
    url = known.url.render_as_string(hide_password=False)
    store.add(known, "oee-weekly", "/oee", VIEW + "&plant=BER", "BER", "mon", "07:00", ["a@example.com", "b@example.com"])
    controller, inbox = smtp_server(free_port())
    app = AppProcess(url, REPORT_CHECK_SECONDS="0", REFRESH_SECONDS="60")
    env = dict(DATABASE_URL=url, ALERT_BASE_URL=app.url, SMTP_URL=f"smtp://127.0.0.1:{controller.port}")
    try:
        done = _cli("run", "oee-weekly", "--now", "--out", str(tmp_path / "now.pdf"), **env)
        assert done.returncode == 0, done.stderr
        assert "sent to a@example.com, b@example.com" in done.stdout and len(inbox.messages) == 1
        text = _pdf_text((tmp_path / "now.pdf").read_bytes(), tmp_path)
        assert "OEE · oee-weekly" in text and "Europe/Berlin" in text and "2026-01-14 00:00 to 2026-01-16 00:00" in text
        listed = _cli("list", **env)
        assert "oee-weekly" in listed.stdout and "weekly on Mon at 07:00 (Europe/Berlin)" in listed.stdout
        missing = _cli("run", "nope", "--now", **env)
        assert missing.returncode == 1 and missing.stderr.strip() == "error: there is no report named 'nope'."
        r = requests.get(app.url + web.link("/inventory", "#range=7d&plant=BER"), timeout=120)
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/pdf"
        text = _pdf_text(r.content, tmp_path)
        assert "Inventory" in text and "Paint" in text and "Last 7 days" in text  # the grid's riskiest material
    finally:
        app.stop()
        controller.stop()
    assert _cli("remove", "oee-weekly", **env).returncode == 0 and store.get(known, "oee-weekly") is None


def test_too_old_slots_are_skipped():
    now = datetime(2026, 1, 14, 12, tzinfo=UTC)
    assert schedule.too_old(now - timedelta(hours=7), now) and not schedule.too_old(now - timedelta(hours=5), now)


@pytest.mark.browser
def test_with_sign_in_a_report_prints_what_its_user_may_see(known, tmp_path):
    """AUTH=password: the scheduled report's browser comes in as its user (Berlin only); 'Download PDF' as the
    person who pressed it, with their own cookie."""
    from dashboard import accounts
    from tests import dash_client

    accounts.add_user(known, "maria", "Stuttgart-Berlin-2026!", ["BER"])
    store.add(known, "maria-daily", "/", VIEW, "BER", "daily", "07:00", ["maria@example.com"], run_as="maria")
    url = known.url.render_as_string(hide_password=False)
    secret = "r" * 32
    app = AppProcess(url, AUTH="password", SECRET_KEY=secret, REPORT_CHECK_SECONDS="0", REFRESH_SECONDS="60")
    env = dict(DATABASE_URL=url, ALERT_BASE_URL=app.url, AUTH="password", SECRET_KEY=secret)
    try:
        done = _cli("run", "maria-daily", "--now", "--no-mail", "--out", str(tmp_path / "m.pdf"), **env)
        assert done.returncode == 0, done.stderr
        text = _pdf_text((tmp_path / "m.pdf").read_bytes(), tmp_path)
        # Berlin alone (tests/known.py): 1800 of 3600 s planned is 50.0 %; nothing of Kolkata.
        assert "50.0 %" in text and "Berlin" in text and "Kolkata" not in text
        assert "Sign in" not in text
        session, r = dash_client.sign_in(app.url, "maria", "Stuttgart-Berlin-2026!")
        assert r.status_code == 302
        r = session.get(app.url + web.link("/oee", VIEW), timeout=120)
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/pdf"
        text = _pdf_text(r.content, tmp_path)
        assert "Berlin" in text and "Kolkata" not in text
        assert requests.get(app.url + web.link("/oee", VIEW), allow_redirects=False).status_code == 302  # signed out
    finally:
        app.stop()
