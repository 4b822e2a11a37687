"""PgBouncer in transaction mode (deploy/pgbouncer.ini): the pages' reads work through it once the settings the app
sends as startup options live on the login role, which is why the README says to put them there."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from dashboard import data, db
from dashboard.config import ROOT, Settings
from tests.conftest import free_port
from tests.known import D, load_known

pytestmark = pytest.mark.skipif(not shutil.which("pgbouncer"), reason="pgbouncer is not installed")
PAGES = f"pages_{uuid.uuid4().hex[:8]}"  # roles belong to the whole server: a name of this run's own, dropped after


@pytest.fixture
def bouncer(db_engine):
    """deploy/pgbouncer.ini's pool settings, pointed at this test's database and a port of its own."""
    url = make_url(db_engine.url.render_as_string(hide_password=False))
    port, where = free_port(), ROOT / ".data" / f"pgbouncer-{uuid.uuid4().hex[:6]}"
    where.mkdir(parents=True)
    settings = [
        line
        for line in (ROOT / "deploy" / "pgbouncer.ini").read_text().splitlines()
        if line.split("=")[0].strip() in ("pool_mode", "ignore_startup_parameters", "auth_type")
    ]
    (where / "userlist.txt").write_text(f'"postgres" ""\n"{PAGES}" ""\n')
    (where / "pgbouncer.ini").write_text(
        f"[databases]\nplant = host={url.host} port={url.port} dbname={url.database}\n[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nauth_file = {where}/userlist.txt\nunix_socket_dir =\n"
        + "\n".join(settings)
        + "\n"
    )
    shutil.chown(where, "postgres")
    for f in where.iterdir():
        shutil.chown(f, "postgres")
    proc = subprocess.Popen(
        ["runuser", "-u", "postgres", "--", "pgbouncer", str(where / "pgbouncer.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield port
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(where, ignore_errors=True)


def _show(engine: sa.Engine, name: str) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"show {name}")).scalar_one()


def test_reads_work_through_transaction_pooling_with_settings_on_the_role(db_engine, bouncer):
    load_known(db_engine)
    with db_engine.begin() as conn:
        conn.execute(sa.text(f"create role {PAGES} login in role plant_reader"))
        for setting in ("role = plant_reader", "default_transaction_read_only = on", "statement_timeout = 15000"):
            conn.execute(sa.text(f"alter role {PAGES} set {setting}"))
    try:
        _check(db_engine, bouncer)
    finally:
        with db_engine.begin() as conn:
            conn.execute(sa.text(f"drop role {PAGES}"))


def _check(db_engine: sa.Engine, bouncer: int) -> None:
    time.sleep(0.5)
    # The app's startup options are dropped by transaction pooling: as postgres, nothing of them arrives.
    direct = db.reader(db_engine, f"postgresql://postgres@127.0.0.1:{bouncer}/plant", timeout_ms=1234)
    assert _show(direct, "default_transaction_read_only") == "off" and _show(direct, "statement_timeout") == "0"
    direct.dispose()
    # Set on the login role, they arrive with every server connection the pool hands out.
    reader = db.reader(db_engine, f"postgresql://{PAGES}@127.0.0.1:{bouncer}/plant", timeout_ms=1234)
    assert _show(reader, "default_transaction_read_only") == "on" and _show(reader, "statement_timeout") == "15s"
    with reader.connect() as conn:
        assert conn.execute(sa.text("select current_user")).scalar_one() == "plant_reader"
    data.init_app(Flask("t"), reader, Settings(refresh_seconds=5))
    totals = data.oee_totals(D, D + timedelta(days=2), "machine")
    assert dict(zip(totals["key"], totals["good_count"], strict=True)) == {"B1": 900, "K1": 780, "K2": 780}
    reader.dispose()
