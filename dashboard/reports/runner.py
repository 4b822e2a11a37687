"""Sending reports: each due slot once (an advisory lock and a 'sent' row per report and slot), from a thread every
app process starts; any process may win, none sends twice, and a restart sends nothing again."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dashboard import queries, viewstate
from dashboard.config import Settings
from dashboard.notify import mail
from dashboard.reports import render, schedule, signin, store
from dashboard.reports.store import Report, ReportError

log = logging.getLogger(__name__)


def view_lines(hierarchy: pd.DataFrame, plants: pd.DataFrame, title: str, fragment: str, tz: str, at: datetime) -> list[str]:
    """The title, the range with its dates, and the time zone, written out for the PDF's header."""
    view, _ = viewstate.parse(viewstate.from_fragment(fragment), hierarchy)
    zones = plants[plants["plant_id"].isin(view.plants)]["tz"].unique() if view.plants else plants["tz"].unique()
    tz = str(zones[0]) if len(zones) == 1 else tz
    start, end = viewstate.window(view, tz, at)
    fmt = lambda t: pd.Timestamp(t).tz_convert(tz).strftime("%Y-%m-%d %H:%M")  # noqa: E731
    where = ", ".join(view.plants) or "all plants"
    zone = f"time zone {tz}" + ("" if len(zones) == 1 else " (each plant's own day and shift windows)")
    return [title, f"{viewstate.PRESETS[view.preset]}: {fmt(start)} to {fmt(end)}", zone, where]


def _lines(engine: Engine, report: Report, at: datetime) -> list[str]:
    return view_lines(queries.hierarchy(engine), queries.plants(engine), report.title, report.fragment, report.tz, at)


def pdf(engine: Engine, settings: Settings, report: Report, at: datetime) -> bytes:
    """The report's page printed as its user sees it (as everyone does when sign-in is off)."""
    url = settings.base_url + report.page + report.fragment
    made = f"made {pd.Timestamp(at).tz_convert(report.tz):%Y-%m-%d %H:%M} ({report.tz})"
    cookies, headers = signin.credentials(engine, settings, report.run_as)
    return render.render(url, _lines(engine, report, at), [made, url], cookies, headers)


def send(settings: Settings, report: Report, document: bytes, at: datetime, lines: list[str]) -> None:
    if not settings.smtp_url:
        raise ReportError("SMTP_URL is not set, so the report cannot be e-mailed")
    link = settings.base_url + report.page + report.fragment
    text = "\n".join([*lines, "", f"The live view: {link}", "", "The PDF is attached."])
    filename = f"{report.name}-{pd.Timestamp(at).tz_convert(report.tz):%Y%m%d-%H%M}.pdf"
    msg = mail.message(settings.smtp_from, list(report.recipients), f"Report: {report.title}", text,
                       attachments=[(filename, document, "application/pdf")])
    mail.send(settings.smtp_url, msg)


def deliver(
    engine: Engine, settings: Settings, report: Report, slot: datetime, at: datetime | None = None
) -> bytes | None:
    """Render and send ``report`` for ``slot`` unless some process has (or is doing so now); the PDF when sent here.
    The lock is held, and the 'sent' row written, in one transaction around the send: a failed send leaves no row,
    and is tried again at the next check."""
    at = at or datetime.now(UTC)
    with engine.begin() as conn:
        key = {"k": f"report:{report.name}"}
        if not conn.execute(sa.text("select pg_try_advisory_xact_lock(hashtext(:k))"), key).scalar():
            return None
        done = {"n": report.name, "s": slot}
        if conn.execute(sa.text("select 1 from report_sent where name = :n and slot = :s"), done).first():
            return None
        document = pdf(engine, settings, report, at)
        send(settings, report, document, at, _lines(engine, report, at))
        conn.execute(sa.text("insert into report_sent (name, slot, bytes) values (:n, :s, :b)"),
                     {**done, "b": len(document)})
    log.info("report %s for %s sent to %d recipient(s), %d bytes", report.name, slot, len(report.recipients),
             len(document))
    return document


def due(engine: Engine, settings: Settings, now: datetime | None = None) -> list[str]:
    """Send every report whose latest slot has passed, was after it was made, and is not sent; the names sent."""
    now = now or datetime.now(UTC)
    sent = []
    for r in store.all_reports(engine):
        slot = schedule.due_slot(r.every, r.weekday, r.at, r.tz, now)
        if slot < r.created_at or schedule.too_old(slot, now):
            continue
        try:
            if deliver(engine, settings, r, slot) is not None:
                sent.append(r.name)
        except (ReportError, signin.NoUser, render.RenderError, mail.MailError) as exc:
            log.warning("report %s not sent, will retry: %s", r.name, exc)
    return sent


def start(engine: Engine, settings: Settings, stop: threading.Event | None = None) -> threading.Thread | None:
    """Check for due reports every REPORT_CHECK_SECONDS in a daemon thread (0: this process does not send)."""
    period = settings.report_check_seconds
    if period <= 0:
        return None
    stop = stop or threading.Event()

    def run() -> None:
        while not stop.wait(period - time.time() % period + 0.05):  # all processes wake together; one wins
            try:
                due(engine, settings)
            except Exception as exc:  # noqa: BLE001 - a thread that dies would leave reports unsent for good
                log.warning("report check failed, will retry: %s", str(exc).strip().splitlines()[0][:300])

    thread = threading.Thread(target=run, name="report-sender", daemon=True)
    thread.start()
    return thread
