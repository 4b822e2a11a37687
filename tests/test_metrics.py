"""/metrics: open with AUTH off, token-only with AUTH on, summed over gunicorn workers; the slow-query log and
QUERY_TIMEOUT_MS on real PostgreSQL."""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from flask import Flask
from prometheus_client import REGISTRY

from dashboard import data, db, metrics, queries
from dashboard.config import ROOT, Settings
from tests import dash_client
from tests.conftest import free_port
from tests.known import D, load_known


def _sample(text: str, name: str, **labels: str) -> float | None:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    m = re.search(rf"^{re.escape(name)}\{{{re.escape(want)}\}} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def test_metrics_are_open_with_auth_off_and_count_routes_and_callbacks(db_engine, app_factory):
    app = app_factory(db_engine.url.render_as_string(hide_password=False))
    ready = _sample(requests.get(app.url + "/metrics", timeout=10).text, "pd_request_seconds_count", route="/healthz")
    assert ready >= 1  # the readiness probe's own
    for _ in range(3):
        assert requests.get(app.url + "/healthz", timeout=10).status_code == 200
    s = requests.Session()
    cb = dash_client.find(dash_client.server_callbacks(app.url, s), "nav-0.href")
    body = dash_client.body(cb, dash_client.by_id(cb, {"url": "/oee"}))
    assert s.post(app.url + "/_dash-update-component", json=body, timeout=10).status_code == 200
    forged = {**body, "output": "..made-up.children.."}  # an output the app never declared
    s.post(app.url + "/_dash-update-component", json=forged, timeout=10)

    r = requests.get(app.url + "/metrics", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    assert _sample(r.text, "pd_request_seconds_count", route="/healthz") == ready + 3
    assert _sample(r.text, "pd_request_seconds_count", route=f"callback:{cb['output']}") == 1.0
    # refused with a 400 (no such output), and labelled without its body being read
    assert _sample(r.text, "pd_request_seconds_count", route="callback:refused") == 1.0
    assert "made-up" not in r.text  # a hand-made request cannot add a time series
    assert "pd_rollup_last_refresh_timestamp_seconds" in r.text


def test_metrics_need_the_token_when_auth_is_on(db_engine, app_factory):
    url = db_engine.url.render_as_string(hide_password=False)
    app = app_factory(url, AUTH="password", SECRET_KEY="metrics-secret-0123456789", METRICS_TOKEN="scrape-me-please")
    assert requests.get(app.url + "/metrics", timeout=10).status_code == 401
    wrong = requests.get(app.url + "/metrics", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert wrong.status_code == 401 and "wrong token" in wrong.text
    ok = requests.get(app.url + "/metrics", headers={"Authorization": "Bearer scrape-me-please"}, timeout=10)
    assert ok.status_code == 200 and "pd_request_seconds" in ok.text
    page = requests.get(app.url + "/oee", allow_redirects=False, timeout=10)
    assert page.status_code in (302, 303)  # the token opens /metrics only, pages still ask for sign-in


def test_without_a_token_metrics_stay_closed_when_auth_is_on(db_engine, app_factory):
    url = db_engine.url.render_as_string(hide_password=False)
    app = app_factory(url, AUTH="password", SECRET_KEY="metrics-secret-0123456789")
    r = requests.get(app.url + "/metrics", headers={"Authorization": "Bearer "}, timeout=10)
    assert r.status_code == 401 and "set METRICS_TOKEN" in r.text


@pytest.fixture
def gunicorn_app(db_engine, tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_engine.url.render_as_string(hide_password=False), "DEMO": "0"}
    env.pop("REDIS_URL", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the config's hooks make and empty their own
    cmd = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "-w", "2", "-b", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(
        [*cmd, "app:server"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            if requests.get(base + "/healthz", timeout=30).status_code == 200:
                break
        except OSError:
            time.sleep(0.1)
    yield base, proc
    proc.terminate()
    proc.wait(20)


def test_metrics_add_up_every_gunicorn_worker(gunicorn_app):
    base, proc = gunicorn_app
    with ThreadPoolExecutor(16) as pool:  # concurrent, so both workers take some
        codes = list(pool.map(lambda _: requests.get(base + "/healthz", timeout=30).status_code, range(40)))
    assert codes == [200] * 40
    text = requests.get(base + "/metrics", timeout=30).text
    # 40 here plus the readiness probe's one; whichever worker answers /metrics sums them all
    assert _sample(text, "pd_request_seconds_count", route="/healthz") == 41.0
    files = list((ROOT / ".data" / f"metrics-{proc.pid}").glob("histogram_*.db"))
    assert len(files) >= 1


@pytest.fixture
def known_data(db_engine):
    load_known(db_engine)
    return db_engine


def _count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_named_query_time_cache_counts_and_slow_log(known_data, caplog):
    data.init_app(Flask("t"), known_data, Settings(refresh_seconds=5))
    metrics.configure(slow_query_ms=1)  # every query is 'slow'
    data.plants()  # the plant list (oee_totals asks it for the plants' time zones) is cached before counting
    before = (_count("pd_query_seconds_count", query="oee_totals"), _count("pd_cache_total", result="miss"))
    hits = _count("pd_cache_total", result="hit")
    start, end = D, D + timedelta(days=1)
    with caplog.at_level(logging.WARNING, logger="dashboard.slow_query"):
        first = data.oee_totals(start, end)
        again = data.oee_totals(start, end)
    assert first.equals(again)
    assert _count("pd_query_seconds_count", query="oee_totals") == before[0] + 1  # the second came from the cache
    assert _count("pd_cache_total", result="miss") == before[1] + 1
    # oee_totals's second answer, plus the plant list (its time zones) on each of the two calls
    assert _count("pd_cache_total", result="hit") == hits + 3
    lines = [r.getMessage() for r in caplog.records if "oee_totals" in r.getMessage()]
    assert len(lines) == 1
    assert "slow query oee_totals took" in lines[0] and "'start': '2026-01-14T00:00:00+00:00'" in lines[0]
    metrics.configure(slow_query_ms=500)


def test_slow_log_never_shows_secrets():
    shown = metrics.redact({"password": "hunter2", "token_hash": "abc", "plant": "BER"})
    assert shown == {"password": "***", "token_hash": "***", "plant": "'BER'"}


def test_query_timeout_ends_a_runaway_query_in_words(known_data):
    url = known_data.url.render_as_string(hide_password=False)
    reader = db.reader(known_data, url, timeout_ms=200)
    data.init_app(Flask("t"), reader, Settings(refresh_seconds=5, query_timeout_ms=200))
    t0 = time.monotonic()
    with pytest.raises(data.TooSlow):
        data._cached("sleepy", lambda conn: queries._frame(conn, "select pg_sleep(5)"))
    assert time.monotonic() - t0 < 4.5  # ended by the server, not after the whole sleep
    assert not isinstance(data.TooSlow("x"), data.UNAVAILABLE)  # pages say 'took too long', not 'database away'
    assert (
        data.oee_totals(D, D + timedelta(days=1))["good_count"].sum() == 18 * 30 + 12 * 30 + 18 * 30 + 8 * 30 + 26 * 30
    )
    reader.dispose()
