"""The demo's live data through MQTT when a broker answers: the simulator publishes, the feed writes."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dashboard import ingest
from dashboard.config import Settings
from dashboard.feed.publish import SimPublisher
from dashboard.feed.subscriber import LOCK, Subscriber, broker
from dashboard.simulate import Feed

log = logging.getLogger(__name__)


def broker_url(settings: Settings) -> str | None:
    """MQTT_URL, or Mosquitto on 127.0.0.1:1883, when it answers an MQTT CONNECT; else None."""
    url = settings.mqtt_url or "mqtt://127.0.0.1:1883"
    try:
        b = broker(url)
        if b.tls or b.user:  # a broker that wants more than a bare CONNECT: trust the setting
            return url
        with socket.create_connection((b.host, b.port), timeout=1) as s:
            s.sendall(b"\x10\x0d\x00\x04MQTT\x04\x02\x00\x3c\x00\x01d")
            return url if s.recv(4)[:1] == b"\x20" else None
    except (OSError, ValueError):
        return None


def run(
    engine: Engine,
    settings: Settings,
    feed: Feed,
    at: pd.Timestamp,
    stop: threading.Event,
    between: Callable[[pd.Timestamp], bool] | None = None,
) -> bool:
    """Publish the simulator's live data from ``at`` on until ``stop``, with the feed running in this process
    unless one runs elsewhere for this database; ``between`` runs after each tick (the demo's older history).
    Returns False at once, starting nothing, when no broker answers."""
    url = broker_url(settings)
    if url is None:
        log.info(
            "demo live data: written directly (no MQTT broker answered at %s)", settings.mqtt_url or "127.0.0.1:1883"
        )
        return False
    with engine.connect() as lock:
        sub = None
        if lock.execute(sa.text("select pg_try_advisory_lock(:k)"), {"k": LOCK}).scalar_one():
            lock.commit()
            # The app's refresher keeps the rollups; this feed only writes rows.
            args = (settings.feed_client_id, settings.feed_late_seconds, settings.feed_buffer_messages)
            sub = Subscriber(engine, url, *args, refresh_rollups=False).start()
        where = "a feed thread in this process" if sub else "the feed already running for this database"
        log.info("demo live data: published to MQTT at %s, written by %s", url.split("@")[-1], where)
        pub = SimPublisher(url, feed.topo, client_id=f"{settings.feed_client_id}-demo")
        hour = [at.ceil("h")]  # the next inventory hour to simulate

        def inventory(now: pd.Timestamp) -> None:
            _inventory(feed, hour[0], now)
            hour[0] = max(hour[0], now.floor("h"))
            if feed.orders_at is None or now.floor("min") > feed.orders_at:  # ERP data: written directly too
                feed.orders(feed.orders_at or at, now.floor("min"))
            if between:
                between(now)

        try:
            pub.live(at, settings.refresh_seconds, stop, on_tick=inventory)
        finally:
            if sub:
                sub.stop()
    return True


def _inventory(feed: Feed, since: pd.Timestamp, now: pd.Timestamp) -> None:
    """Stock is not machine data: the simulator still writes it directly, hour by hour (and orders, by the minute)."""
    if feed.inventory is None:
        return
    moves, levels = feed.inventory.run(since, now.floor("h"))
    if len(moves):
        with feed.engine.begin() as conn:
            ingest.upsert(conn, "inventory_movement", moves)
            ingest.upsert(conn, "inventory_level", levels)
