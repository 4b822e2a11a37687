"""The feed against a real Mosquitto and PostgreSQL: a scripted hour worked out by hand, restarts that lose nothing,
and a flood of bad messages that changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from flask import Flask

from dashboard import data, db, ingest, simulator
from dashboard.config import Settings
from dashboard.feed import store
from dashboard.feed.subscriber import Subscriber
from tests.conftest import free_port
from tests.feed_helpers import Mosquitto, Publisher, forget_session, machine_broker_url, settle, wait_until

H = datetime(2026, 1, 14, 13, tzinfo=UTC)  # 08:00 in Detroit (UTC-5), 18:30 in Pune (UTC+5:30)
A = "plants/DET/DET-L1/DET-L1-M1"  # shift 06:00-14:00 Detroit: planned all hour; ideal cycle 3 s
B = "plants/PNQ/PNQ-L1/PNQ-L1-M1"  # shift 19:00-03:00 Pune, i.e. from 13:30 UTC; ideal cycle 2 s


@pytest.fixture(scope="module")
def mqtt_url(tmp_path_factory):
    """The machine's Mosquitto (TEST_MQTT_URL or 127.0.0.1:1883) when it answers, else one started here."""
    url = machine_broker_url()
    if url:
        yield url
        return
    own = Mosquitto(tmp_path_factory.mktemp("mosquitto"), free_port())
    yield own.url
    own.stop()


@pytest.fixture
def plant(db_engine):
    dims = {
        "plant": pd.DataFrame(
            [("DET", "Detroit", "America/Detroit"), ("PNQ", "Pune", "Asia/Kolkata")], columns=["plant_id", "name", "tz"]
        ),
        "shift": pd.DataFrame(
            [("DET", "A", "06:00", 8), ("PNQ", "A", "19:00", 8)], columns=["plant_id", "name", "starts", "hours"]
        ),
        "line": pd.DataFrame(
            [("DET-L1", "DET", "L1"), ("PNQ-L1", "PNQ", "L1")], columns=["line_id", "plant_id", "name"]
        ),
        "machine": pd.DataFrame(
            [("DET-L1-M1", "DET-L1", "M1", 3.0), ("PNQ-L1-M1", "PNQ-L1", "M1", 2.0)],
            columns=["machine_id", "line_id", "name", "ideal_cycle_s"],
        ),
        "downtime_reason": pd.DataFrame(simulator.REASONS, columns=["reason_code", "label", "category"]),
        "sensor": pd.DataFrame(
            [(101, "DET-L1-M1", "temperature", "°C", None, 80.0)],
            columns=["sensor_id", "machine_id", "kind", "unit", "lo_limit", "hi_limit"],
        ),
    }
    with db_engine.begin() as conn:
        for table, frame in dims.items():
            ingest.upsert(conn, table, frame)
    return db_engine


@pytest.fixture
def feeds(plant, mqtt_url):
    """Start feeds with their own client ids; stop them and drop their sessions afterwards."""
    started: list[tuple[Subscriber, str]] = []

    def start(url: str = mqtt_url, client_id: str | None = None, **kw) -> Subscriber:
        cid = client_id or f"test-feed-{uuid.uuid4().hex[:8]}"
        sub = Subscriber(plant, url, cid, kw.pop("late_s", 7200), kw.pop("buffer", 100_000), **kw).start()
        started.append((sub, url))
        assert sub.subscribed.wait(20), "the feed did not subscribe"
        return sub

    yield start
    for sub, url in started:
        sub.stop()
        if url == mqtt_url:
            forget_session(url, sub.client_id)


def at(minute: int, second: float = 0) -> float:
    return (H + timedelta(minutes=minute, seconds=second)).timestamp()


def st(topic: str, minute: int, second: float, state: str, reason: str = "") -> tuple[str, bytes]:
    return f"{topic}/state", json.dumps({"ts": at(minute, second), "state": state, "reason": reason}).encode()


def ct(topic: str, minute: int, total: int, good: int, second: float = 59) -> tuple[str, bytes]:
    return f"{topic}/count", json.dumps({"ts": at(minute, second), "total": total, "good": good}).encode()


def script() -> tuple[list, tuple]:
    """The hour as published (with a repeated state and count), and one count held back to arrive late."""
    a = [st(A, 0, 0, "running"), ct(A, 0, 0, 0, second=0)]
    a += [ct(A, k, 18 * (k + 1), 17 * (k + 1)) for k in range(20) if k != 10]  # 18 parts a minute, 17 good
    late = ct(A, 10, 198, 187)
    a += [st(A, 20, 0, "down", "mech_failure")] * 2  # down 13:20:00-13:27:30, sent twice
    a += [ct(A, 23, 360, 340), st(A, 27, 30, "running"), ct(A, 27, 369, 349)]
    a += [ct(A, k, 369 + 18 * (k - 27), 349 + 17 * (k - 27)) for k in range(28, 40)]
    a += [ct(A, k, 18 * (k - 39), 17 * (k - 39)) for k in range(40, 60)]  # counter reset at 13:40
    a += [ct(A, 30, 369 + 18 * 3, 349 + 17 * 3)]  # a repeat
    a += [(f"{A}/sensors/temperature", json.dumps({"ts": at(5, s), "value": 60 + s}).encode()) for s in range(3)]
    b = [st(B, 0, 0, "planned_stop"), ct(B, 0, 65000, 40000, second=0), st(B, 30, 0, "running")]
    b += [ct(B, k, 65000 + 25 * (k - 29), 40000 + 24 * (k - 29)) for k in range(30, 45)]  # 25 a minute, 24 good
    b += [st(B, 45, 10, "idle", "jam"), st(B, 45, 40, "running"), ct(B, 45, 65387, 40372)]
    b += [ct(B, k, 65387 + 25 * (k - 45), 40372 + 24 * (k - 45)) for k in range(46, 50)]
    b += [st(B, 50, 0, "planned_stop")] * 2 + [st(B, 55, 0, "running")]  # a break 13:50-13:55
    b += [ct(B, k, (65487 + 25 * (k - 54)) % 65536, 40468 + 24 * (k - 54)) for k in range(55, 60)]  # 16-bit wrap
    return a + b, late


def expected_rows() -> dict:
    """(machine, minute) -> planned s, run s, parts, good parts; worked out from the script by hand."""
    rows = {}
    for k in range(60):
        if k < 20 or k >= 28:
            rows[("DET-L1-M1", k)] = (60.0, 60.0, 18, 17)
        elif k < 27:
            rows[("DET-L1-M1", k)] = (60.0, 0.0, 0, 0)  # down all minute, still planned
        else:
            rows[("DET-L1-M1", k)] = (60.0, 30.0, 9, 9)  # 13:27: running from :30
        if 30 <= k < 50 and k != 45 or k >= 55:
            rows[("PNQ-L1-M1", k)] = (60.0, 60.0, 25, 24)
    rows[("PNQ-L1-M1", 45)] = (60.0, 30.0, 12, 12)  # idle 13:45:10-13:45:40
    return rows  # PNQ before 13:30 and in its break: no planned time, no parts, no row


def table(engine) -> dict:
    q = "select machine_id, ts, planned_s, run_s, total_count, good_count from production order by 1, 2"
    with engine.connect() as conn:
        return {
            (m, int((ts - H).total_seconds() // 60)): (p, r, t, g) for m, ts, p, r, t, g in conn.execute(sa.text(q))
        }


def counts(engine) -> dict:
    with engine.connect() as conn:
        return {
            t: conn.execute(sa.text(f"select count(*) from {t}")).scalar_one()
            for t in ("production", "downtime", "telemetry", "feed_signal")
        }


def test_a_scripted_hour_gives_the_hand_worked_rows_events_and_oee(feeds, plant, mqtt_url):
    sub = feeds(clock=lambda: at(60, 5), refresh_rollups=True)
    msgs, late = script()
    pub = Publisher(mqtt_url, f"test-pub-{uuid.uuid4().hex[:8]}")
    for t, p in msgs:
        pub.send(t, p)
    pub.wait()
    settle(sub, len(msgs))
    before = table(plant)
    # Without 13:10's count, 13:11 took both minutes' parts.
    assert before[("DET-L1-M1", 10)] == (60.0, 60.0, 0, 0)
    assert before[("DET-L1-M1", 11)] == (60.0, 60.0, 36, 34)
    pub.send(*late)
    pub.wait()
    settle(sub, len(msgs) + 1)
    pub.close()
    assert table(plant) == expected_rows()
    assert sub.tracker.rejected == {}
    with plant.connect() as conn:
        events = conn.execute(
            sa.text("select machine_id, start_ts, end_ts, reason_code from downtime order by 2")
        ).all()
        readings = conn.execute(sa.text("select sensor_id, value from telemetry order by ts")).all()
    assert [(m, s, e, r) for m, s, e, r in events] == [
        ("DET-L1-M1", H + timedelta(minutes=20), H + timedelta(minutes=27, seconds=30), "mech_failure"),
        ("PNQ-L1-M1", H + timedelta(minutes=45, seconds=10), H + timedelta(minutes=45, seconds=40), "jam"),
    ]
    assert readings == [(101, 60.0), (101, 61.0), (101, 62.0)]

    # The pages' own functions, through the rollups the feed refreshed. Detroit: planned 3600 s, run
    # 20*60 + 30 + 32*60 = 3150 s, 945 parts, 893 good at 3 s. Pune: planned 25*60 = 1500 s, run 1470 s,
    # 24*25 + 12 = 612 parts, 24*24 + 12 = 588 good at 2 s.
    data.init_app(Flask("t"), plant, Settings(refresh_seconds=5))
    got = data.oee_totals(H, H + timedelta(hours=1), "machine").set_index("key")
    det, pnq = got.loc["DET-L1-M1"], got.loc["PNQ-L1-M1"]
    assert (det.planned_s, det.run_s, det.total_count, det.good_count) == (3600, 3150, 945, 893)
    assert (pnq.planned_s, pnq.run_s, pnq.total_count, pnq.good_count) == (1500, 1470, 612, 588)
    assert det.oee == pytest.approx(893 * 3 / 3600, abs=1e-12)
    assert det.availability == pytest.approx(3150 / 3600, abs=1e-12)
    assert pnq.oee == pytest.approx(588 * 2 / 1500, abs=1e-12)
    whole = data.oee_totals(H, H + timedelta(hours=1), "all").iloc[0]
    assert whole.oee == pytest.approx((893 * 3 + 588 * 2) / 5100, abs=1e-12)
    reasons = data.downtime_by_reason(H, H + timedelta(hours=1)).set_index("reason_code")
    assert reasons.seconds.to_dict() == {"mech_failure": 450.0, "jam": 30.0}


def reading(i: int, t0: float) -> tuple[str, bytes]:
    return f"{A}/sensors/temperature", json.dumps({"ts": t0 + i / 100, "value": i}).encode()


def test_broker_restart_and_feed_restart_lose_nothing(feeds, plant, tmp_path):
    broker = Mosquitto(tmp_path / "broker", free_port())
    t0 = datetime.now(UTC).timestamp() - 60
    cid = f"test-feed-{uuid.uuid4().hex[:8]}"
    try:
        sub = feeds(broker.url, cid)
        pub = Publisher(broker.url, f"test-pub-{uuid.uuid4().hex[:8]}")
        for i in range(200):
            pub.send(*reading(i, t0))
        pub.wait()
        broker.stop()  # the broker goes away and comes back; the feed's session is kept on its disk
        broker.start()
        wait_until(pub.client.is_connected, what="the publisher")
        for i in range(200, 300):  # sent, most likely, before the feed is back: the broker holds them for it
            pub.send(*reading(i, t0))
        pub.wait()
        settle(sub, 300)
        sub.stop()  # the feed goes away: its session on the broker keeps what comes meanwhile
        for i in range(300, 450):
            pub.send(*reading(i, t0))
        pub.wait()
        sub = feeds(broker.url, cid)
        for i in range(450, 600):
            pub.send(*reading(i, t0))
        pub.wait()
        settle(sub, 300)
        pub.close()
        with plant.connect() as conn:
            values = conn.execute(sa.text("select value from telemetry where sensor_id = 101")).scalars().all()
        assert sorted(values) == list(range(600))
    finally:
        broker.stop()


def test_a_restarted_feed_goes_on_from_the_signals_it_kept(feeds, plant, mqtt_url):
    """Counters need the reading before: a new feed takes it from feed_signal, not from memory."""
    cid = f"test-feed-{uuid.uuid4().hex[:8]}"
    msgs, late = script()
    first, second = msgs[:40], msgs[40:] + [late]
    pub = Publisher(mqtt_url, f"test-pub-{uuid.uuid4().hex[:8]}")
    sub = feeds(client_id=cid, clock=lambda: at(60, 5))
    for m in first:
        pub.send(*m)
    pub.wait()
    settle(sub, len(first))
    sub.stop()
    sub = feeds(client_id=cid, clock=lambda: at(60, 5))
    for m in second:
        pub.send(*m)
    pub.wait()
    settle(sub, len(second))
    pub.close()
    assert table(plant) == expected_rows()


def bad_messages() -> list[tuple[str, bytes]]:
    good_ts = at(30)
    kinds = [
        (f"{A}/state", b"not json"),
        (f"{A}/state", b"\xff\xfe\x00"),
        (f"{A}/state", json.dumps({"ts": good_ts, "state": "exploded"}).encode()),
        (f"{A}/state", json.dumps({"state": "running"}).encode()),
        (f"{A}/count", json.dumps({"ts": good_ts, "total": -5, "good": 0}).encode()),
        (f"{A}/count", json.dumps({"ts": good_ts, "total": 1.5, "good": 0}).encode()),
        (f"{A}/count", json.dumps({"ts": "yesterday", "total": 1, "good": 0}).encode()),
        (f"{A}/sensors/temperature", b'{"ts": 1768395600, "value": Infinity}'),
        (f"{A}/sensors/temperature", json.dumps({"ts": good_ts, "value": "hot"}).encode()),
        (f"{A}/sensors/pressure", json.dumps({"ts": good_ts, "value": 1}).encode()),
        ("plants/DET/DET-L1/NOPE/state", json.dumps({"ts": good_ts, "state": "running"}).encode()),
        ("plants/PNQ/DET-L1/DET-L1-M1/state", json.dumps({"ts": good_ts, "state": "running"}).encode()),
        (f"{A}/count", json.dumps({"ts": at(60 * 24), "total": 1, "good": 0}).encode()),  # a day ahead
        (f"{A}/count", json.dumps({"ts": at(-600), "total": 1, "good": 0}).encode()),  # past the horizon
        (f"{A}/state", b"[" * 3000 + b"]" * 3000),
        (f"{A}/state", b"{}" * 3000),
    ]
    return [kinds[i % len(kinds)] for i in range(1000)]


def test_a_thousand_bad_messages_leave_the_feed_running_and_the_tables_unchanged(feeds, plant, mqtt_url):
    sub = feeds(clock=lambda: at(60, 5))
    before = counts(plant)
    pub = Publisher(mqtt_url, f"test-pub-{uuid.uuid4().hex[:8]}")
    for t, p in bad_messages():
        pub.send(t, p)
    pub.wait()
    settle(sub, 1000)
    assert counts(plant) == before
    assert sum(sub.tracker.rejected.values()) == 1000
    assert set(sub.tracker.rejected) == {"malformed", "impossible", "unknown_machine", "too_late"}
    # Still listening, and still writing good messages.
    pub.send(f"{A}/sensors/temperature", json.dumps({"ts": at(30), "value": 55.5}).encode())
    pub.wait()
    settle(sub, 1001)
    pub.close()
    assert sub.thread.is_alive()
    assert counts(plant)["telemetry"] == before["telemetry"] + 1


def test_the_database_going_away_holds_messages_and_writes_them_when_it_is_back(feeds, plant, mqtt_url, pg_admin_url):
    sub = feeds()
    name = plant.url.database
    admin = db.create(pg_admin_url, pool_size=1)
    t0 = datetime.now(UTC).timestamp() - 60
    pub = Publisher(mqtt_url, f"test-pub-{uuid.uuid4().hex[:8]}")
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f"alter database {name} allow_connections false"))
            conn.execute(
                sa.text("select pg_terminate_backend(pid) from pg_stat_activity where datname = :d"), {"d": name}
            )
        for i in range(100):
            pub.send(*reading(i, t0))
        pub.wait()
        wait_until(lambda: sub.tracker.accepted >= 100 and sub.unwritten)
        wait_until(lambda: sub.behind_s() >= 1.5)  # it knows, and says, that it is behind
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f"alter database {name} allow_connections true"))
        admin.dispose()
    settle(sub, 100)
    pub.close()
    with plant.connect() as conn:
        values = conn.execute(sa.text("select value from telemetry where sensor_id = 101")).scalars().all()
        (status,) = [s for s in store.status(conn) if s["feed_id"] == sub.client_id]
    assert sorted(values) == list(range(100))
    assert status["connected"] is True and status["buffered"] == 0 and status["behind_s"] == 0
    assert status["accepted"] == 100 and status["seen_s_ago"] < 30


def test_the_command_says_in_one_line_why_it_cannot_start(empty_db_url):
    env = {**os.environ, "DATABASE_URL": empty_db_url}
    for args, why in (
        (["--mqtt-url", "http://broker:1883"], "error: MQTT_URL must look like mqtt://user:password@host:1883"),
        (["--database-url", "postgresql://nobody@127.0.0.1:1/none"], "error: "),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "dashboard.feed", *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 2
        assert done.stderr.startswith(why) and len(done.stderr.strip().splitlines()) == 1, done.stderr
