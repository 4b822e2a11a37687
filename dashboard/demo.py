"""Demo data for the embedded default: the last hours at once, then live data and, between its ticks, the rest of
DEMO_DAYS (newest first) in one background thread, so the app answers within seconds of starting."""

from __future__ import annotations

import atexit
import logging
import threading

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dashboard import demo_history, simulator
from dashboard.config import Settings
from dashboard.feed import live as mqtt_live
from dashboard.simulate import Feed
from dashboard.sources.topology import apply_demo

log = logging.getLogger(__name__)
_LIVE_LOCK = 727_002  # one simulating process per database, however many app workers start
FIRST = pd.Timedelta(hours=2)  # written before the app answers: today's tiles and the live charts have data


class Loader:
    """The background half: stock up to now, the recent hour at 1 Hz, then older history a day per live tick."""

    def __init__(self, feed: Feed, settings: Settings, end: pd.Timestamp) -> None:
        self.feed, self.settings, self.end = feed, settings, end
        self.start = demo_history.history_start(end, settings.demo_days)
        self.until = end  # the live span in demo_history ends here
        self.hf_from = end - pd.Timedelta(hours=feed.hf_hours)
        self.ordered = False

    def first_hours(self) -> None:
        """The newest FIRST hours of what is missing, with 5-minute readings (the 1 Hz hour is heavy; it follows)."""
        self.feed.dimensions()
        for a, b in self._holes():
            if b > self.end - FIRST:
                self._load(max(a, self.end - FIRST), b, hf_from=self.end)

    def catch_up(self) -> None:
        """Stock from where it stopped (or from the first day) to now, then 1 Hz readings for the newest hour."""
        stock_from = self.feed.stock_resume_point() or self.start
        if stock_from < self.end:
            self.feed.stock(stock_from, self.end)
        self.feed.window(self.hf_from, self.end, self.hf_from, stock=False)

    def between(self, written_until: pd.Timestamp) -> bool:
        """After each live tick: note it, then load one more day of history; False once there is none left."""
        with self.feed.engine.begin() as conn:
            demo_history.extend(conn, self.until, written_until)
        self.until = written_until
        holes = self._holes()
        chunk = demo_history.newest_chunk(holes)
        if chunk is None:
            if not self.ordered:  # orders once the history is in: each is written as it stands now
                self.feed.orders(self.start, self.end, shifts_from=self.start)
                self.ordered = True
            return False
        self._load(*chunk, hf_from=self.hf_from)
        left = sum((b - a for a, b in holes), pd.Timedelta(0)) - (chunk[1] - chunk[0])
        if left <= pd.Timedelta(0):
            log.info("demo history: all %d days loaded", self.settings.demo_days)
        else:
            log.info(
                "demo history: %s..%s UTC loaded, %.1f days to go",
                f"{chunk[0]:%m-%d %H:%M}",
                f"{chunk[1]:%m-%d %H:%M}",
                left / pd.Timedelta(days=1),
            )
        return True

    def _holes(self) -> list[demo_history.Span]:
        with self.feed.engine.connect() as conn:
            return demo_history.missing(demo_history.spans(conn), self.start, self.end)

    def _load(self, a: pd.Timestamp, b: pd.Timestamp, hf_from: pd.Timestamp) -> None:
        self.feed.window(a, b, hf_from, stock=False)
        with self.feed.engine.begin() as conn:  # after the rows: a crash in between only means doing it again
            demo_history.record(conn, a, b)


def start(
    engine: Engine, settings: Settings, stop: threading.Event | None = None, now: pd.Timestamp | None = None
) -> threading.Thread | None:
    """Write the last hours before ``now`` (the current minute); return the thread that loads the rest of
    DEMO_DAYS and streams live data."""
    lock_conn = engine.connect()
    if not lock_conn.execute(sa.text("select pg_try_advisory_lock(:k)"), {"k": _LIVE_LOCK}).scalar_one():
        lock_conn.close()
        log.info("another process is simulating demo data")
        return None
    topo = simulator.topology(settings.demo_seed, settings.demo_plants, settings.demo_machines)
    apply_demo(engine, topo)  # the demo's plants come from a plant model file, as a real plant's do
    loader = Loader(Feed(engine, topo), settings, now or pd.Timestamp.now(tz="UTC").floor("min"))
    loader.first_hours()
    if stop is None:
        stop = threading.Event()
        atexit.register(stop.set)  # no writes into a server that is being stopped with this process

    def run() -> None:
        try:
            loader.catch_up()
            # Through MQTT and the feed when a broker answers; otherwise straight into the tables. Either way the
            # older history loads a day at a time between live ticks.
            if not mqtt_live.run(engine, settings, loader.feed, loader.end, stop, between=loader.between):
                loader.feed.live(loader.end, settings.refresh_seconds, stop, between=loader.between)
        except Exception as exc:  # noqa: BLE001 - the app goes on serving what is there
            if not stop.is_set():  # when it is, the process is stopping and its database with it
                log.warning("demo simulator stopped: %s", str(exc).strip().splitlines()[0])
        finally:
            try:
                lock_conn.close()
            except sa.exc.DBAPIError:
                pass  # the server went first; the lock went with the session

    thread = threading.Thread(target=run, name="demo-simulator", daemon=True)
    thread.start()
    return thread
