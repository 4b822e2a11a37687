"""The demo writes its last hours before the app answers and loads the rest of DEMO_DAYS behind it, newest first,
into the same rows a one-shot backfill writes; the shell says how far it has got; an interrupted load resumes."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import demo, demo_history, simulator
from dashboard.config import Settings
from dashboard.demo_history import history_start, missing, newest_chunk
from dashboard.simulate import Feed

T = pd.Timestamp
H = pd.Timedelta(hours=1)
D = pd.Timedelta(days=1)
NOW = T("2026-03-04 13:37", tz="UTC")
SETTINGS = Settings(demo_days=3, demo_plants=1, demo_machines=3, refresh_seconds=2)


# --- which spans are still to load (worked out by hand)
def test_history_starts_at_midnight_days_minus_one_before_today():
    assert history_start(NOW, 3) == T("2026-03-02 00:00", tz="UTC")
    assert history_start(NOW, 1) == T("2026-03-04 00:00", tz="UTC")


def test_missing_is_what_no_span_covers():
    start = history_start(NOW, 3)
    assert missing([], start, NOW) == [(start, NOW)]
    done = [(NOW - 2 * H, NOW), (start, start + 6 * H), (start + 5 * H, start + 7 * H)]
    assert missing(done, start, NOW) == [(start + 7 * H, NOW - 2 * H)]
    assert missing([(start - D, NOW + H)], start, NOW) == []


def test_newest_chunk_is_at_most_a_day_and_never_crosses_midnight():
    start = history_start(NOW, 3)
    hole = [(start + 7 * H, NOW - 2 * H)]  # 2026-03-02 07:00 .. 03-04 11:37
    assert newest_chunk(hole) == (T("2026-03-04 00:00", tz="UTC"), NOW - 2 * H)
    assert newest_chunk([(start + 7 * H, T("2026-03-03 00:00", tz="UTC"))]) == (start + 7 * H, start + D)
    assert newest_chunk([]) is None


def _rows(engine: sa.Engine, table: str, ts: str, before: pd.Timestamp) -> tuple[int, str]:
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                sa.text(
                    f"select count(*), md5(string_agg(md5(x::text), '' order by md5(x::text))) from {table} x"
                    f" where {ts} < :b"
                ),
                {"b": before},
            ).one()
        )


def test_start_writes_only_the_last_hours_before_returning(db_engine):
    now = pd.Timestamp.now(tz="UTC").floor("min")
    stop = threading.Event()
    stop.set()  # nothing may run behind: what start() wrote itself is all there is
    thread = demo.start(db_engine, SETTINGS, stop, now=now)
    with db_engine.connect() as conn:
        first = conn.execute(sa.text("select min(ts) from production")).scalar()
        assert demo_history.spans(conn) == [(now - 2 * H, now)]
        assert demo_history.progress(conn, now, 3) == (0, 3)
    assert first is not None and pd.Timestamp(first) >= now - 2 * H
    thread.join(60)  # the stock and the 1 Hz hour, then it sees the stop


@pytest.mark.parametrize("interrupted", [False, True], ids=["fresh", "resumed"])
def test_background_history_equals_a_one_shot_backfill(db_engine, second_engine, interrupted):
    now = pd.Timestamp.now(tz="UTC").floor("min")
    start = history_start(now, SETTINGS.demo_days)
    if interrupted:  # an earlier run got the newest hours and its oldest day, then stopped
        earlier = Feed(db_engine, simulator.topology(42, 1, 3))
        earlier.dimensions()
        earlier.window(start, start + D, now, stock=False)
        with db_engine.begin() as conn:
            demo_history.record(conn, start, start + D)
    stop = threading.Event()
    thread = demo.start(db_engine, SETTINGS, stop, now=now)
    deadline = time.monotonic() + 180
    with db_engine.connect() as conn:
        while demo_history.progress(conn, pd.Timestamp.now(tz="UTC"), 3) is not None:
            assert time.monotonic() < deadline, demo_history.spans(conn)
            time.sleep(0.5)
            conn.rollback()
    stop.set()
    thread.join(60)
    Feed(second_engine, simulator.topology(42, 1, 3)).backfill(start, now, progress=False)
    for table, ts, before in [
        ("production", "ts", now),
        ("downtime", "end_ts", now),
        ("telemetry", "ts", now),
        ("inventory_level", "ts", now.floor("h")),
        ("inventory_movement", "ts", now.floor("h")),
    ]:
        mine = _rows(db_engine, table, ts, before)
        assert mine[0] > 0 or table == "inventory_movement"
        assert mine == _rows(second_engine, table, ts, before), table
    with db_engine.connect() as conn:
        assert missing(demo_history.spans(conn), start, now) == []


def test_the_shell_says_how_much_history_is_loaded(db_engine, app_factory, page):
    now = pd.Timestamp.now(tz="UTC")
    start = history_start(now, 14)
    Feed(db_engine, simulator.topology(42, 1, 2)).dimensions()
    with db_engine.begin() as conn:
        demo_history.record(conn, now - 2 * H, now + H)
    holder = db_engine.connect()  # hold the demo's lock: this app's own simulator stands aside
    holder.execute(sa.text("select pg_advisory_lock(727002)"))
    try:
        app = app_factory(db_engine.url.render_as_string(hide_password=False), DEMO="1", REFRESH_SECONDS="2")
        page.goto(app.url + "/")
        notice = "document.querySelector('#demo-history-notice')"
        page.wait_for_function(f"{notice} && {notice}.innerText.startsWith('Demo history: 0 of 14 days loaded')")
        with db_engine.begin() as conn:  # all but the first of the 13 to 14 days: 12 whole days
            demo_history.record(conn, start + D, now - 2 * H)
        page.wait_for_function(f"{notice} && {notice}.innerText.startsWith('Demo history: 12 of 14 days loaded')")
        with db_engine.begin() as conn:
            demo_history.record(conn, start, start + D)
        page.wait_for_function(f"!{notice}", timeout=15000)
    finally:
        holder.close()
