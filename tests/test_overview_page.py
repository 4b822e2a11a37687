"""The overview page in a real Chromium: known-answer OEE, a drawn chart, live refresh, clear start-up errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from dashboard import ingest
from tests.known import load_today as _known_plant

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.browser


def test_overview_shows_known_oee_and_moves_with_new_data(db_engine, app_factory, page):
    now = pd.Timestamp.now(tz="UTC")
    next_minute = _known_plant(db_engine, now)
    app = app_factory(db_engine.url.render_as_string(hide_password=False), REFRESH_SECONDS="2")
    page.goto(app.url + "/#range=today")
    oee = page.locator("#ov-kpi-oee")
    page.wait_for_function("document.querySelector('#ov-kpi-oee') && document.querySelector('#ov-kpi-oee').innerText")
    # By hand: planned 600 s; run 5*54 + 5*48 = 510; ideal 5*24*2 + 5*11*4 = 460; good ideal 5*23*2 + 5*11*4 = 450.
    # OEE = 450/600 = 75.0 %, A = 510/600 = 85.0 %, P = 460/510 = 90.2 %, Q = 450/460 = 97.8 %.
    assert oee.inner_text() == "75.0 %"
    assert page.locator("#ov-kpi-availability").inner_text() == "85.0 %"
    assert page.locator("#ov-kpi-performance").inner_text() == "90.2 %"
    assert page.locator("#ov-kpi-quality").inner_text() == "97.8 %"
    assert page.locator("#ov-kpi-good").inner_text() == "170 units"

    # One more minute in which A makes 30 good of 30 in 60 s: OEE = (450 + 60) / 660 = 77.3 %, no reload.
    extra = pd.DataFrame(
        {
            "machine_id": ["KA-A"],
            "ts": [next_minute],
            "planned_s": [60.0],
            "run_s": [60.0],
            "total_count": [30],
            "good_count": [30],
            "startup_rejects": [0],
            "ideal_cycle_s": [2.0],
        }
    )
    with db_engine.begin() as conn:
        ingest.upsert(conn, "production", extra)
    page.wait_for_function("document.querySelector('#ov-kpi-oee').innerText === '77.3 %'", timeout=20000)


def test_app_with_unreachable_database_says_so_in_one_line():
    env = {**os.environ, "DATABASE_URL": "postgresql://x@127.0.0.1:9/plant"}
    done = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (
        'error: Cannot reach the database plant on 127.0.0.1:9: connection to server at "127.0.0.1", '
        "port 9 failed: Connection refused."
    )
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [("PORT", "http", "PORT must be a whole number"), ("DEMO", "maybe", "DEMO must be auto, 1 or 0")],
)
def test_app_with_bad_setting_says_which(name, value, message):
    env = {**os.environ, name: value}
    done = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert message in done.stderr and "Traceback" not in done.stderr


def test_no_refresh_work_while_the_tab_is_hidden(db_engine, app_factory, page):
    _known_plant(db_engine, pd.Timestamp.now(tz="UTC"))
    app = app_factory(db_engine.url.render_as_string(hide_password=False), REFRESH_SECONDS="2")
    page.goto(app.url + "/#range=today")
    page.wait_for_function("document.querySelector('#ov-kpi-oee') && document.querySelector('#ov-kpi-oee').innerText")
    calls: list[str] = []
    page.on("request", lambda r: calls.append(r.url) if "_dash-update-component" in r.url else None)
    page.evaluate("Object.defineProperty(document, 'hidden', {configurable: true, get: () => true})")
    page.wait_for_timeout(3000)  # let a refresh already under way finish
    calls.clear()
    page.wait_for_timeout(6000)  # three refresh intervals
    assert calls == []
    page.evaluate("Object.defineProperty(document, 'hidden', {configurable: true, get: () => false})")
    page.wait_for_timeout(5000)
    assert len(calls) >= 1
