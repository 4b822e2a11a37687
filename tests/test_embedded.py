"""The demo's embedded PostgreSQL: stopping the app (Ctrl-C or kill) stops it, a CLI shares it, a server left
behind by kill -9 is reused and then stopped; no PostgreSQL of the data folder is left running."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port


def servers_of(data_dir: Path) -> list[int]:
    """Pids of PostgreSQL server processes whose data directory lies in ``data_dir``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue  # the process ended while we looked
        if argv and argv[0].endswith(b"/postgres") and any(str(data_dir).encode() in a for a in argv[1:]):
            found.append(int(cmdline.parent.name))
    return found


class Demo:
    """``python app.py`` with no DATABASE_URL: the embedded server in ``data_dir`` and a small demo."""

    def __init__(self, data_dir: Path, **more: str) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(DATA_DIR=str(data_dir), PORT=str(self.port), DEMO_DAYS="1", DEMO_PLANTS="1", DEMO_MACHINES="2")
        env.update(more)
        self.log = data_dir / f"app-{self.port}.log"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            if self.answers():
                return
            time.sleep(0.3)
        self.proc.kill()
        raise AssertionError("the demo did not answer /healthz in 120 s")

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=3) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self, sig: int) -> int:
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def gone(data_dir: Path, within: float = 15) -> bool:
    deadline = time.monotonic() + within
    while servers_of(data_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not servers_of(data_dir)


@pytest.fixture
def data_dir():
    path = Path(tempfile.mkdtemp(prefix="pd-demo-"))  # short: the server's socket lives in it
    yield path
    for pid in servers_of(path):  # whatever a failed test left behind
        os.kill(pid, signal.SIGQUIT)
    time.sleep(0.5)
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_stopping_the_demo_stops_its_postgres(data_dir, sig):
    demo = Demo(data_dir)
    assert len(servers_of(data_dir)) == 1
    assert f"DATABASE_URL=postgresql://postgres@/plant?host={data_dir.resolve()}/pg" in demo.log.read_text()
    demo.stop(sig)
    assert gone(data_dir), demo.log.read_text()[-3000:]
    assert "Traceback" not in demo.log.read_text()
    # and the next start brings it back on the same data, and stops it again
    again = Demo(data_dir)
    again.stop(signal.SIGTERM if sig == signal.SIGINT else signal.SIGINT)
    assert gone(data_dir)


def test_a_cli_shares_the_demos_server_and_leaves_it_to_the_demo(data_dir):
    demo = Demo(data_dir)
    [server] = servers_of(data_dir)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.migrate"],
        cwd=ROOT,
        env={**env, "DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"database: plant on {data_dir.resolve()}/pg (DATABASE_URL=postgresql://postgres@/plant?host={data_dir.resolve()}/pg)",
        "database is up to date",
    ]
    assert servers_of(data_dir) == [server]  # the CLI did not stop what the demo uses
    assert demo.answers()
    demo.stop(signal.SIGTERM)
    assert gone(data_dir)


def test_a_server_left_by_kill_9_is_reused_then_stopped(data_dir):
    demo = Demo(data_dir)
    [server] = servers_of(data_dir)
    demo.stop(signal.SIGKILL)  # nothing can clean up after this
    assert servers_of(data_dir) == [server]
    again = Demo(data_dir)
    assert servers_of(data_dir) == [server]  # found and reused, not a second server
    again.stop(signal.SIGTERM)
    assert gone(data_dir)
