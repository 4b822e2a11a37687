"""The evaluator thread every app process starts: at each period one of them (by lock) evaluates, any of them sends."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dashboard.alerts import defaults, evaluate, outbox
from dashboard.config import Settings

log = logging.getLogger(__name__)


class _State:
    owner: Engine | None = None  # writes instances, acknowledgements and silences (pages' reader cannot)
    settings: Settings | None = None


_state = _State()


def owner() -> Engine:
    if _state.owner is None:
        raise RuntimeError("dashboard.alerts.runner.start was not called")
    return _state.owner


def settings() -> Settings:
    if _state.settings is None:
        raise RuntimeError("dashboard.alerts.runner.start was not called")
    return _state.settings


def once(engine: Engine, settings: Settings, now: datetime | None = None) -> evaluate.Summary:
    """One evaluation (if this slot is not done yet) and one round of sending."""
    summary = evaluate.cycle(engine, now or datetime.now(UTC), max(settings.alert_eval_seconds, 1), settings.base_url)
    outbox.deliver(engine, settings.smtp_url, settings.smtp_from, settings.alert_retry_seconds)
    return summary


def start(engine: Engine, settings: Settings, stop: threading.Event | None = None) -> threading.Thread | None:
    """Remember the owner engine for the page, install the demo's rules, and start evaluating in a daemon thread."""
    _state.owner, _state.settings = engine, settings
    if settings.seed_demo:
        with engine.connect() as conn:
            empty = conn.execute(sa.text("select not exists (select 1 from alert_rule)")).scalar()
        if empty:
            defaults.install(engine)
    if settings.alert_eval_seconds <= 0:
        return None
    stop = stop or threading.Event()
    period = settings.alert_eval_seconds

    def run() -> None:
        while not stop.is_set():
            try:
                summary = once(engine, settings)
                if summary.ran and summary.changed:
                    log.info("alerts: %d rule(s), %d change(s), %d message(s) queued, %.0f ms", summary.rules,
                             summary.changed, summary.queued, summary.took_ms)
            except Exception as exc:  # noqa: BLE001 - an evaluator that dies would leave alerts silent for good
                log.warning("alert evaluation failed, will retry: %s", str(exc).strip().splitlines()[0][:300])
            # Wake just after the next slot starts, so every process tries at the same moment and one wins.
            stop.wait(period - time.time() % period + 0.05)

    thread = threading.Thread(target=run, name="alert-evaluator", daemon=True)
    thread.start()
    return thread
