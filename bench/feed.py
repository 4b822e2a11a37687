"""MQTT feed: messages per second sustained, and publish -> visible in the minute rollup (telemetry_1m) latency.

40 machines x 3 sensors publish readings at 1 Hz, 10 Hz and at the aim's 5,000 messages/s, through a Mosquitto
started here, to `python -m dashboard.feed` in its own process, which writes and refreshes the rollups. The
same-run baseline writes the same readings straight into the tables (ingest.upsert + rollups.refresh each
second, the simulator's road) with the same clock. Each rate runs --runs times: the first on a fresh database,
the others reusing it (the current hour's rollup grows). Median and spread; one JSON line at the end.
Usage: python -m bench.feed [--seconds 30] [--runs 3] [--rates 1,10,41.7]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pandas as pd
import sqlalchemy as sa

from bench.common import ROOT, report, scratch_database
from dashboard import ingest, rollups, simulator
from dashboard.feed.publish import topic

MACHINES = 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_broker(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    conf = folder / "mosquitto.conf"
    # Mosquitto lets 20 QoS 1 messages be unacknowledged per client by default, a round trip per 20 messages.
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
        "max_inflight_messages 1000\nlog_dest none\n"
    )
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"mqtt://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    raise SystemExit("error: mosquitto did not start")


class Poller:
    """Polls telemetry_1m every 50 ms and notes when each (sensor, minute) count first reached each value."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.seen: dict[tuple[int, int], list[tuple[int, float]]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        q = sa.text("select sensor_id, extract(epoch from bucket)::bigint, count from telemetry_1m where bucket >= :t")
        while not self.stop.wait(0.05):
            since = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=2)
            try:
                with self.engine.connect() as conn:
                    rows = conn.execute(q, {"t": since}).all()
            except sa.exc.SQLAlchemyError as exc:
                print(f"poller: {str(exc).splitlines()[0]}", file=sys.stderr)
                continue
            now = time.time()
            for sid, minute, count in rows:
                hist = self.seen.setdefault((sid, minute), [])
                if not hist or hist[-1][0] < count:
                    hist.append((count, now))

    def visible_at(self, sid: int, minute: int, nth: int) -> float | None:
        for count, at in self.seen.get((sid, minute), []):
            if count >= nth:
                return at
        return None


def publish_run(url: str | None, engine: sa.Engine, topo: simulator.Topology, hz: float, seconds: float) -> dict:
    """Publish (or, without ``url``, write directly) readings for ``seconds`` at ``hz`` per sensor."""
    sensors = topo.sensors()
    kinds = [k[0] for k in simulator.SENSORS]
    # Earlier runs in the same minute already count in telemetry_1m: the n-th reading of this run is visible
    # when the minute's count reaches what was there before plus n.
    with engine.connect() as conn:
        base = {
            (sid, minute): count
            for sid, minute, count in conn.execute(
                sa.text(
                    "select sensor_id, extract(epoch from bucket)::bigint, count from telemetry_1m"
                    " where bucket >= now() - interval '3 minutes'"
                )
            )
        }
    poller = Poller(engine)
    sent: list[tuple[int, int, int, float]] = []  # sensor, minute, nth in minute, publish time
    per_minute: dict[tuple[int, int], int] = {}
    client = last_info = None
    if url:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:6]}")
        host, port = url.rsplit(":", 1)
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)
        client.connect(host.split("//")[1], int(port))
        client.loop_start()
    pending: list[tuple[int, pd.Timestamp, float]] = []
    done_at: list[float] = []
    last_direct = time.time()
    t0 = time.time()
    step = 1.0 / hz
    tick = 0
    while time.time() - t0 < seconds:
        target = t0 + tick * step
        delay = target - time.time()
        if delay > 0:
            time.sleep(delay)
        now = time.time()
        ts_ms = int(now * 1000)
        for sid, m, k in sensors:
            minute = ts_ms // 60000 * 60
            n = per_minute[(sid, minute)] = per_minute.get((sid, minute), base.get((sid, minute), 0)) + 1
            if client:
                body = json.dumps({"ts": ts_ms / 1000, "value": float(tick % 97)}).encode()
                last_info = client.publish(topic(m, f"sensors/{kinds[k]}"), body, qos=1)
            else:
                pending.append((sid, pd.Timestamp(ts_ms, unit="ms", tz="UTC"), float(tick % 97)))
            sent.append((sid, minute, n, time.time()))
        if not client and time.time() - last_direct >= 1.0:
            done_at += [_direct(engine, pending)] * len(pending)
            pending, last_direct = [], time.time()
        tick += 1
    if client:  # publishing is done when the broker has the last message, not when publish() returned
        last_info.wait_for_publish(120)
    took = time.time() - t0
    if not client and pending:
        done_at += [_direct(engine, pending)] * len(pending)
    # Wait for the last message to be visible (the feed draining what it holds), at most 60 s.
    deadline = time.time() + 60
    while client and time.time() < deadline and poller.visible_at(*sent[-1][:3]) is None:
        time.sleep(0.05)
    drained = time.time() - t0 - took
    poller.stop.set()
    poller.thread.join()
    if client:
        client.disconnect()
        client.loop_stop()
    lat = []
    missing = 0
    for i, (sid, minute, n, at) in enumerate(sent):
        # Written directly, a row is in the rollup when the write and refresh that carried it returned.
        seen = done_at[i] if not client else poller.visible_at(sid, minute, n)
        if seen is None:
            if not missing and os.environ.get("BENCH_DEBUG"):
                print("not visible:", sid, minute, n, poller.seen.get((sid, minute), [])[-3:], file=sys.stderr)
            missing += 1
        else:
            lat.append(max(seen - at, 0.0))
    lat_a = np.array(lat) if lat else np.array([np.nan])
    return {
        "offered_msg_s": round(MACHINES * 3 * hz, 1),
        "published_msg_s": round(len(sent) / took, 1),
        "written_msg_s": round(len(lat) / (took + drained), 1),
        "p50_s": round(float(np.percentile(lat_a, 50)), 3),
        "p95_s": round(float(np.percentile(lat_a, 95)), 3),
        "drain_s": round(drained, 2),
        "not_visible": missing,
    }


def _direct(engine: sa.Engine, rows: list) -> float:
    frame = pd.DataFrame(rows, columns=["sensor_id", "ts", "value"]).drop_duplicates(["sensor_id", "ts"], keep="last")
    with engine.begin() as conn:
        ingest.upsert(conn, "telemetry", frame)
    rollups.refresh(engine)
    return time.time()


def start_feed(db_url: str, mqtt_url: str, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "MQTT_URL": mqtt_url,
        "FEED_CLIENT_ID": f"bench-{uuid.uuid4().hex[:6]}",
    }
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.feed"], cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    for _ in range(200):
        if "subscribed as" in log.read_text() and "connected to" in log.read_text():
            return proc
        if proc.poll() is not None:
            raise SystemExit(f"error: the feed exited: {log.read_text()[-300:]}")
        time.sleep(0.1)
    raise SystemExit("error: the feed did not connect")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--rates", default="1,10,41.7", help="readings per second per sensor (41.7 x 120 = 5,000 msg/s)")
    a = p.parse_args()
    topo = simulator.topology(42, 3, MACHINES)
    figures = []
    with tempfile.TemporaryDirectory() as tmp, scratch_database() as engine:
        with engine.begin() as conn:
            for table, frame in simulator.dimensions(topo).items():
                ingest.upsert(conn, table, frame)
        broker, url = start_broker(Path(tmp))
        feed = start_feed(engine.url.render_as_string(hide_password=False), url, Path(tmp) / "feed.log")
        try:
            for hz in [float(r) for r in a.rates.split(",")]:
                for road in ("mqtt", "direct"):
                    runs = []
                    for i in range(a.runs):
                        r = publish_run(url if road == "mqtt" else None, engine, topo, hz, a.seconds)
                        r["database"] = "fresh" if i == 0 and hz == float(a.rates.split(",")[0]) else "reused"
                        runs.append(r)
                        print(f"{road:6s} {hz:5g} Hz run {i + 1}: {r}", flush=True)
                    figures.append(_summary(road, hz, runs))
                    print(json.dumps(figures[-1]), flush=True)
        finally:
            feed.terminate()
            feed.wait(30)
            broker.terminate()
            print("feed log tail:\n" + "".join((Path(tmp) / "feed.log").read_text().splitlines(True)[-5:]))
    report("feed", figures)


def _summary(road: str, hz: float, runs: list[dict]) -> dict:
    out = {"road": road, "hz_per_sensor": hz, "runs": len(runs)}
    for key in ("offered_msg_s", "written_msg_s", "p50_s", "p95_s", "drain_s", "not_visible"):
        vals = [r[key] for r in runs]
        out[key] = statistics.median(vals)
        out[key + "_spread"] = [min(vals), max(vals)]
    return out


if __name__ == "__main__":
    main()
