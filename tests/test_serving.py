"""Serving under gunicorn: fresh workers serve a burst of script and callback requests, and /healthz tells the truth."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = [
    "/_dash-component-suites/dash/deps/react-dom@18.3.1.min.js",
    "/_dash-component-suites/dash/dash-renderer/build/dash_renderer.min.js",
    "/_dash-component-suites/dash/dcc/dash_core_components.js",
    "/_dash-component-suites/dash/html/dash_html_components.min.js",
]


@pytest.fixture
def gunicorn(db_engine):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": db_engine.url.render_as_string(hide_password=False), "DEMO": "0"}
    env.pop("REDIS_URL", None)
    cmd = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "-w", "2", "-b", f"127.0.0.1:{port}"]
    cmd.append("app:server")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):  # wait for the port only: the first requests must find the workers fresh
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(20)


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_fresh_workers_answer_a_burst_completely(gunicorn):
    """A browser asks for a dozen scripts at once; no worker may answer while half set up."""
    urls = ["/"] + SCRIPTS * 8 + ["/_dash-dependencies"] * 8
    with ThreadPoolExecutor(32) as pool:
        codes = list(pool.map(lambda u: (u, _get(gunicorn + u)), urls))
    assert [c for c in codes if c[1] != 200] == []


def test_every_script_the_page_names_is_served(gunicorn):
    with urllib.request.urlopen(gunicorn + "/oee", timeout=30) as r:
        index = r.read()
    scripts = re.findall(rb'src="(/_dash-component-suites/[^"]+)"', index)
    assert len(scripts) > 5
    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(lambda s: _get(gunicorn + s.decode()), scripts * 4)) == {200}


def test_healthz_reports_database_and_cache(gunicorn):
    time.sleep(0.5)
    with urllib.request.urlopen(gunicorn + "/healthz", timeout=30) as r:
        body = r.read()
    assert b'"database":"ok"' in body and b'"cache":"SimpleCache"' in body
