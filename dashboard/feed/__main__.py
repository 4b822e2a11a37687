"""`python -m dashboard.feed`: subscribe to the shop floor's MQTT broker and write what it says, until stopped."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

import sqlalchemy as sa

from dashboard import config, db, migrate
from dashboard.feed.subscriber import LOCK, Subscriber, broker

log = logging.getLogger("dashboard.feed")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Write machine states, counters and readings from MQTT into the database.")
    p.add_argument("--database-url", help="defaults to $DATABASE_URL, or the embedded demo server")
    p.add_argument("--mqtt-url", help="defaults to $MQTT_URL, else mqtt://127.0.0.1:1883")
    args = p.parse_args(argv)
    try:
        settings = config.load()
        url = args.mqtt_url or settings.mqtt_url or "mqtt://127.0.0.1:1883"
        broker(url)
        logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        engine = db.create(args.database_url or settings.database_url or db.start_embedded(settings.data_dir))
        db.check(engine)
        migrate.migrate(engine, want_timescale=settings.timescaledb)
    except (config.ConfigError, db.DatabaseError, migrate.MigrationError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with engine.connect() as lock_conn:
        while not lock_conn.execute(sa.text("select pg_try_advisory_lock(:k)"), {"k": LOCK}).scalar_one():
            log.info("another feed is writing to this database; waiting as a standby")
            if stop.wait(5):
                return 0
        lock_conn.commit()
        feed = Subscriber(
            db.writer(engine),
            url,
            settings.feed_client_id,
            settings.feed_late_seconds,
            settings.feed_buffer_messages,
            owner=engine,
        ).start()
        log.info("feed: subscribed as %s to %s; Ctrl-C stops", settings.feed_client_id, url.split("@")[-1])
        stop.wait()
        feed.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
