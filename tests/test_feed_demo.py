"""The demo through MQTT: the simulator's signals, through Mosquitto and the feed, give the simulator's own minutes."""

from __future__ import annotations

import uuid

import pandas as pd
import sqlalchemy as sa

from dashboard import ingest, simulator
from dashboard.config import Settings
from dashboard.feed import live
from dashboard.feed.publish import SimPublisher
from dashboard.feed.subscriber import Subscriber
from tests.conftest import free_port
from tests.feed_helpers import Mosquitto, settle

W0 = pd.Timestamp("2026-01-14 10:00", tz="UTC")  # a Wednesday: Detroit's night shift, Stuttgart's and Pune's day
W1 = W0 + pd.Timedelta(minutes=10)


def test_broker_url_is_none_where_no_broker_answers(tmp_path):
    assert live.broker_url(Settings(mqtt_url=f"mqtt://127.0.0.1:{free_port()}")) is None
    own = Mosquitto(tmp_path / "b", free_port())
    try:
        assert live.broker_url(Settings(mqtt_url=own.url)) == own.url
    finally:
        own.stop()


def test_simulated_signals_through_the_feed_give_the_simulators_minutes(db_engine, tmp_path):
    topo = simulator.topology(42, 3, 6)
    with db_engine.begin() as conn:
        for table, frame in simulator.dimensions(topo).items():
            ingest.upsert(conn, table, frame)
    own = Mosquitto(tmp_path / "b", free_port())
    sub = Subscriber(db_engine, own.url, f"t-{uuid.uuid4().hex[:8]}", 3600, 100_000, clock=lambda: W1.timestamp() + 5)
    sub.start()
    assert sub.subscribed.wait(20)
    pub = SimPublisher(own.url, topo, client_id=f"p-{uuid.uuid4().hex[:8]}")
    try:
        pub.window(W0, W1, first=True)
        pub.wait()
        settle(sub, pub.sent)
    finally:
        pub.close()
        sub.stop()
        own.stop()
    assert sum(sub.tracker.rejected.values()) == 0
    cols = ["machine_id", "ts", "planned_s", "run_s", "total_count", "good_count"]
    want = pd.concat([simulator.production_rows(42, m, W0, W1) for m in topo.machines], ignore_index=True)[cols]
    with db_engine.connect() as conn:
        got = pd.read_sql(sa.text(f"select {', '.join(cols)} from production order by 1, 2"), conn)
        readings = conn.execute(sa.text("select count(*) from telemetry")).scalar_one()
    assert len(want) == 60  # six machines, ten planned minutes each
    want = want.sort_values(["machine_id", "ts"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert readings == len(simulator.telemetry_rows(42, topo, W0, W1, 1))
