"""Demo data for the embedded default: backfill what is missing, then keep simulating in a thread."""

from __future__ import annotations

import logging
import threading

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dashboard import simulator
from dashboard.config import Settings
from dashboard.feed import live as mqtt_live
from dashboard.simulate import Feed

log = logging.getLogger(__name__)
_LIVE_LOCK = 727_002  # one simulating process per database, however many app workers start


def start(engine: Engine, settings: Settings, stop: threading.Event | None = None) -> threading.Thread | None:
    """Fill the gap since the last run (all of DEMO_DAYS on a new database) and stream from now on."""
    lock_conn = engine.connect()
    if not lock_conn.execute(sa.text("select pg_try_advisory_lock(:k)"), {"k": _LIVE_LOCK}).scalar_one():
        lock_conn.close()
        log.info("another process is simulating demo data")
        return None
    stop = stop or threading.Event()
    topo = simulator.topology(settings.demo_seed, settings.demo_plants, settings.demo_machines)
    feed = Feed(engine, topo)
    end = pd.Timestamp.now(tz="UTC").floor("min")
    resume = feed.resume_point()
    start_at = end.floor("D") - pd.Timedelta(days=settings.demo_days - 1)
    if resume is not None:
        start_at = max(start_at, resume)
    if start_at < end:
        log.info("simulating demo data from %s to %s UTC", f"{start_at:%Y-%m-%d %H:%M}", f"{end:%Y-%m-%d %H:%M}")
        feed.backfill(start_at, end)
    else:
        feed.dimensions()

    def run() -> None:
        try:
            # Through MQTT and the feed when a broker answers; otherwise straight into the tables.
            if not mqtt_live.run(engine, settings, feed, end, stop):
                feed.live(end, settings.refresh_seconds, stop)
        finally:
            lock_conn.close()

    thread = threading.Thread(target=run, name="demo-simulator", daemon=True)
    thread.start()
    return thread
