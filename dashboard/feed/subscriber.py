"""The long-running subscriber: QoS 1 on a persistent session, a write at least every second, reconnects to the
broker and the database by itself, and holds what it cannot write yet within a bound."""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from sqlalchemy.engine import Engine

from dashboard import rollups
from dashboard.feed import messages, store
from dashboard.feed.tracker import Batch, Tracker

log = logging.getLogger(__name__)
WRITE_EVERY_S = 1.0
MIN_GAP_S = 0.2
LOCK = 727_012  # one feed per database: a second one waits as a standby and takes over when the first stops


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool
    user: str | None
    password: str | None


def broker(url: str) -> Broker:
    """mqtt://[user:password@]host[:port] or mqtts://... (TLS, port 8883 by default)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise ValueError(f"MQTT_URL must look like mqtt://user:password@host:1883 or mqtts://..., got {url!r}")
    tls = parts.scheme in ("mqtts", "ssl")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise ValueError(f"MQTT_URL has a port that is not a number: {url!r}") from None
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return Broker(parts.hostname, port, tls, user, password)


def client(b: Broker, client_id: str, clean: bool) -> mqtt.Client:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
    if b.user:
        c.username_pw_set(b.user, b.password)
    if b.tls:
        c.tls_set(cert_reqs=ssl.CERT_REQUIRED)
    c.reconnect_delay_set(min_delay=1, max_delay=10)
    return c


class Subscriber:
    """Takes messages on paho's thread into a bounded queue; one writer thread owns the tracker and the database."""

    def __init__(
        self,
        engine: Engine,
        url: str,
        client_id: str,
        late_s: int,
        buffer: int,
        clock=time.time,  # noqa: ANN001 - seconds since 1970; tests replay a fixed hour
        refresh_rollups: bool = True,
        owner: Engine | None = None,  # refreshes the rollups; the writer role only writes rows
    ) -> None:
        self.engine, self.client_id, self.buffer, self.clock = engine, client_id, buffer, clock
        self.refresh_rollups, self.owner = refresh_rollups, owner or engine
        self.broker = broker(url)
        with engine.connect() as conn:
            machines, reasons = store.machines(conn)
            self.tracker = Tracker(machines, reasons, late_s * 1000)
            kept = store.restore(conn, self.tracker, self._now_ms() - late_s * 1000, self._now_ms())
        log.info("feed: %d machines known, %d signals kept from before", len(machines), kept)
        self.queue: deque[tuple[str, bytes, float]] = deque()
        self.unwritten: deque[tuple[Batch, float]] = deque()  # batches and when their oldest message came
        self.room = threading.Condition()
        self.connected = False
        self.stopping = threading.Event()
        self.arrived = threading.Event()  # a message came since the last write
        self.leaving = False
        self.subscribed = threading.Event()  # set once the broker confirmed the subscriptions
        self.written_batches = 0
        self.cycles = 0  # write cycles done, for tests and the bench to wait on
        self.mqtt = client(self.broker, client_id, clean=False)
        self.mqtt.on_connect = self._on_connect
        self.mqtt.on_disconnect = self._on_disconnect
        self.mqtt.on_message = self._on_message
        self.mqtt.on_subscribe = lambda *_: self.subscribed.set()
        self.thread = threading.Thread(target=self._write_loop, name="feed-writer", daemon=True)

    def _now_ms(self) -> int:
        return round(self.clock() * 1000)

    def start(self) -> Subscriber:
        self.mqtt.connect_async(self.broker.host, self.broker.port, keepalive=30)
        self.mqtt.loop_start()
        self.thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        """Leave the broker, then write what was taken: a stopped feed has nothing in hand."""
        self.leaving = True
        self.mqtt.disconnect()  # first stop taking messages (each one taken is acknowledged), then write them
        self.mqtt.loop_stop()
        self.stopping.set()
        self.arrived.set()
        with self.room:
            self.room.notify_all()
        self.thread.join(timeout)

    # --- paho's thread
    def _on_connect(self, c, userdata, flags, reason, props) -> None:  # noqa: ANN001
        if reason.is_failure:
            log.warning("feed: broker %s:%d refused: %s", self.broker.host, self.broker.port, reason)
            return
        self.connected = True
        c.subscribe([(t, 1) for t in messages.SUBSCRIPTIONS])
        log.info(
            "feed: connected to %s:%d (session kept: %s)", self.broker.host, self.broker.port, flags.session_present
        )

    def _on_disconnect(self, c, userdata, flags, reason, props) -> None:  # noqa: ANN001
        self.connected = False
        self.subscribed.clear()
        if not self.leaving:
            log.warning("feed: lost the broker (%s); reconnecting by itself", reason)

    def _on_message(self, c, userdata, msg: mqtt.MQTTMessage) -> None:  # noqa: ANN001
        # When the database is away and the buffer is full, wait here: paho stops reading, so the broker keeps
        # the rest in our persistent session instead of us growing without bound.
        with self.room:
            while self._held() >= self.buffer and not self.stopping.is_set():
                self.room.wait(1.0)
            self.queue.append((msg.topic, msg.payload, time.monotonic()))
        self.arrived.set()

    def _held(self) -> int:
        return len(self.queue) + sum(len(b) for b, _ in self.unwritten)

    # --- the writer's thread
    def _write_loop(self) -> None:
        last_report = 0.0
        while True:
            # A write at least every second (minutes close even when nothing comes), and soon after messages
            # arrive, but no more often than MIN_GAP_S: under load batches grow while the last one is written.
            started = time.monotonic()
            self.arrived.wait(WRITE_EVERY_S)
            time.sleep(max(0.0, MIN_GAP_S - (time.monotonic() - started)))
            self.arrived.clear()
            stopping = self.stopping.is_set()
            self._take()
            self._write()
            if time.monotonic() - last_report > 10:
                last_report = time.monotonic()
                self._report()
            self.cycles += 1
            if stopping:
                if self.unwritten:
                    log.warning("feed: stopping with %d batch(es) unwritten: the database is away", len(self.unwritten))
                return

    def _take(self) -> None:
        with self.room:
            taken, self.queue = self.queue, deque()
        now = self._now_ms()
        for topic, payload, _ in taken:
            self.tracker.receive(topic, payload, now)
        batch = self.tracker.flush(now)
        if len(batch):
            self.unwritten.append((batch, taken[0][2] if taken else time.monotonic()))

    def _write(self) -> None:
        wrote = False
        while self.unwritten:
            batch, _ = self.unwritten[0]
            try:
                with self.engine.begin() as conn:
                    store.write(conn, batch)
            except Exception as exc:  # noqa: BLE001 - the feed outlives a database restart and keeps the batch
                log.warning("feed: database refused a write, keeping %d batch(es): %s", len(self.unwritten), _line(exc))
                return
            self.unwritten.popleft()
            self.written_batches += 1
            wrote = True
            with self.room:
                self.room.notify_all()
        try:
            if wrote and self.refresh_rollups:
                rollups.refresh(self.owner)
            with self.engine.begin() as conn:
                store.heartbeat(conn, self.client_id, self.behind_s(), self._held(), self.connected, self.tracker)
        except Exception as exc:  # noqa: BLE001
            log.warning("feed: could not refresh rollups or record its heartbeat: %s", _line(exc))

    def behind_s(self) -> float:
        """Seconds since the oldest message not yet in the database came in; 0 when all is written."""
        oldest = [t for _, t in list(self.unwritten)[:1]] + [m[2] for m in list(self.queue)[:1]]
        return round(time.monotonic() - min(oldest), 1) if oldest else 0.0

    def _report(self) -> None:
        behind = self.behind_s()
        level = logging.WARNING if behind > 5 else logging.INFO
        log.log(
            level,
            "feed: %s, %.1f s behind, %d held, %d taken, refused %s",
            "connected" if self.connected else "NOT connected",
            behind,
            self._held(),
            self.tracker.accepted,
            dict(self.tracker.rejected) or "none",
        )


def _line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
