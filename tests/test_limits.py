"""Serving under the production gunicorn settings: slow clients starve nothing, and large bodies are never read."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
import requests

from dashboard import accounts, ingest
from tests import dash_client
from tests.conftest import ROOT, free_port

SECRET = "limits-secret-0123456789"
MB = 2**20
SENSOR_COLUMNS = ["sensor_id", "machine_id", "kind", "unit", "lo_limit", "hi_limit"]


def test_procfile_runs_the_tested_gunicorn_settings():
    web = (ROOT / "Procfile").read_text().split("web:", 1)[1]
    assert "-c deploy/gunicorn.conf.py" in web and "app:server" in web


@pytest.fixture(scope="module")
def served(pg_admin_url):
    """gunicorn with deploy/gunicorn.conf.py (2 gevent workers), AUTH=password, on a known database."""
    from tests.conftest import known_database

    with known_database(pg_admin_url) as engine:
        accounts.add_user(engine, "anna", "anna-password", ["BER"])
        accounts.add_user(engine, "zoe", "zoe-password", ["BER"])
        _sensor_readings(engine)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env.update(
            DATABASE_URL=engine.url.render_as_string(hide_password=False),
            DEMO="0",
            AUTH="password",
            SECRET_KEY=SECRET,
            REFRESH_SECONDS="60",
        )
        cmd = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "-b", f"127.0.0.1:{port}"]
        log = open(ROOT / ".data" / f"gunicorn-{port}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen([*cmd, "app:server"], cwd=ROOT, env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(base, proc)
            yield base, proc
        finally:
            proc.terminate()
            proc.wait(30)
            log.close()


def _sensor_readings(engine) -> None:  # noqa: ANN001
    """An hour of 1 Hz readings of one Berlin sensor, ending now."""
    now = pd.Timestamp.now(tz="UTC").floor("s")
    with engine.begin() as conn:
        ingest.upsert(
            conn,
            "sensor",
            pd.DataFrame([(1, "B1", "temperature", "°C", None, 80.0)], columns=SENSOR_COLUMNS),
        )
        ts = pd.date_range(now - pd.Timedelta(hours=1), now, freq="s", inclusive="left")
        ingest.upsert(conn, "telemetry", pd.DataFrame({"sensor_id": 1, "ts": ts, "value": 50.0}))


def _wait_healthy(base: str, proc: subprocess.Popen) -> None:
    for _ in range(300):
        assert proc.poll() is None, "gunicorn exited"
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz")


def _workers_rss(master: int) -> int:
    """Resident bytes of the master's worker processes."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            status = (stat.parent / "status").read_text()
            total += int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) * 1024
    return total


def _post_big(base: str, path: str, size: int, cookie: str = "") -> int | None:
    """POST ``size`` bytes with a Content-Length, a megabyte at a time; the status, or None if the server closed
    the connection before taking it all (which is what refusing without reading looks like)."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.putrequest("POST", path)
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(size))
    if cookie:
        conn.putheader("Cookie", cookie)
    conn.endheaders()
    chunk = b"[" + b"1," * (MB // 2 - 1) + b"1"
    try:
        for _ in range(size // len(chunk)):
            conn.send(chunk)
        status = conn.getresponse().status
    except (ConnectionError, TimeoutError, http.client.HTTPException):
        try:
            status = conn.getresponse().status
        except Exception:  # noqa: BLE001 - a closed connection is an acceptable refusal
            status = None
    conn.close()
    return status


def test_a_hundred_megabyte_body_is_refused_without_being_read(served):
    base, proc = served
    before = _workers_rss(proc.pid)
    for _ in range(4):  # as the attack did: four unauthenticated 100 MB posts
        assert _post_big(base, "/_dash-update-component", 100 * MB) in (401, 413, None)
    session, r = dash_client.sign_in(base, "anna", "anna-password")
    assert r.status_code == 302
    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    assert _post_big(base, "/_dash-update-component", 100 * MB, cookie) in (413, None)  # signed in: still too big
    grown = _workers_rss(proc.pid) - before
    # Reading even one of those bodies would grow a worker by hundreds of MB (JSON parsed in Python); what is left
    # is noise from the sign-in and the pages' own first work, 47 MB once on a loaded machine.
    assert grown < 120 * MB, f"workers grew by {grown / MB:.0f} MB"
    with urllib.request.urlopen(base + "/healthz", timeout=10) as ok:
        assert ok.status == 200


def _slow_client(port: int, stop: threading.Event, opened: list) -> None:
    """One connection that sends a header line every 5 s and never finishes its request."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    opened.append(s)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        while not stop.wait(5):
            s.sendall(b"X-Slow: 1\r\n")
    except OSError:
        pass
    finally:
        s.close()


@pytest.mark.slow
def test_fifty_slow_clients_do_not_starve_healthz(served):
    base, _ = served
    port = int(base.rsplit(":", 1)[1])
    stop, opened = threading.Event(), []
    clients = [threading.Thread(target=_slow_client, args=(port, stop, opened), daemon=True) for _ in range(50)]
    for c in clients:
        c.start()
    answered = failed = 0
    deadline = time.monotonic() + 25  # bounded: 50 loopback connections for 25 s
    try:
        time.sleep(1)
        assert len(opened) == 50
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=4) as r:
                    answered += r.status == 200
            except OSError:
                failed += 1
            time.sleep(0.5)
    finally:
        stop.set()
        for c in clients:
            c.join(10)
    assert failed == 0 and answered > 20, (answered, failed)


def test_the_explorer_reads_its_tiles_under_gevent_workers(served):
    """Tiles come by binary COPY, which psycopg2 refuses while psycogreen's wait callback is set."""
    base, _ = served
    session, r = dash_client.sign_in(base, "anna", "anna-password")
    assert r.status_code == 302
    draw = next(
        c
        for c in dash_client.server_callbacks(base, session)
        if c["output"].startswith("..exp-graph.figure...") and "@" not in c["output"]
    )
    values = dash_client.by_id(draw, {"exp-sensors": [1], "exp-range": "24h", "exp-width": 1200})
    answer = session.post(base + "/_dash-update-component", json=dash_client.body(draw, values), timeout=60)
    assert answer.status_code == 200, answer.text[:300]
    info = answer.json()["response"]["exp-info"]["children"]
    assert re.match(r"temperature: 3,(5|6)\d\d readings in view", info), info  # the last hour, to the second


def test_concurrent_guesses_check_no_more_passwords_than_the_limit(served):
    """40 wrong passwords at once across 2 workers: exactly LOGIN_ATTEMPTS (5) are checked, the rest refused.
    Last in this file: the guesses use up 127.0.0.1's own allowance (4 x 5) for the next 15 minutes."""
    base, _ = served
    forms = []
    for _ in range(40):
        s = requests.Session()
        forms.append((s, dash_client.form_token(base, s)))
    start = threading.Barrier(40)

    def guess(form: tuple) -> int:
        s, token = form
        start.wait()
        data = {"username": "zoe", "password": "wrong-password", "csrf": token}
        return s.post(base + "/login", data=data, allow_redirects=False, timeout=60).status_code

    with ThreadPoolExecutor(40) as pool:
        codes = sorted(pool.map(guess, forms))
    assert codes.count(401) == 5 and codes.count(429) == 35, codes

