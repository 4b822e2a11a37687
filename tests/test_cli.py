"""Every command line tool (except accounts, tested with it) says which database it uses, and every way it cannot
go on is one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from dashboard import db

ROOT = Path(__file__).resolve().parent.parent
DOWN = "postgresql://nobody@127.0.0.1:9/nowhere"  # nothing listens on port 9


def run(module: str, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "app.py"] if module == "app" else [sys.executable, "-m", f"dashboard.{module}"]
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    full_env.update(TIMESCALEDB="0", **env)
    return subprocess.run([*cmd, *args], cwd=ROOT, capture_output=True, text=True, env=full_env, timeout=timeout)


def one_line_error(done: subprocess.CompletedProcess, *, status: int | None = None) -> str:
    """The single line the tool printed on stderr, after checking it failed the way a tool should."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert done.returncode != 0
    assert status is None or done.returncode == status
    return lines[0]


CLIS = ["migrate", "simulate", "rollups"]


@pytest.mark.parametrize("module", CLIS)
def test_unreachable_database_is_one_line(module):
    extra = ["--no-live"] if module == "simulate" else []
    line = one_line_error(run(module, "--database-url", DOWN, *extra))
    assert "Cannot reach the database nowhere on 127.0.0.1:9" in line


@pytest.mark.parametrize("module", CLIS)
def test_unknown_database_on_a_live_server_is_one_line(module, pg_admin_url):
    missing = make_url(db.normalise_url(pg_admin_url)).set(database="pd_no_such_db").render_as_string(False)
    line = one_line_error(run(module, "--database-url", missing))
    assert 'database "pd_no_such_db" does not exist' in line


@pytest.mark.parametrize("module", [*CLIS, "app"])
def test_a_data_dir_that_cannot_hold_the_server_is_one_line(module):
    line = one_line_error(run(module, DATA_DIR="/dev/null/plant", DATABASE_URL=""))
    assert "DATA_DIR /dev/null/plant cannot hold the embedded PostgreSQL" in line


@pytest.mark.parametrize("module", [*CLIS, "app"])
def test_a_bad_setting_is_one_line(module):
    line = one_line_error(run(module, DATABASE_URL=DOWN, DEMO_DAYS="ten"))
    assert "DEMO_DAYS must be a whole number, got 'ten'" in line


@pytest.mark.parametrize("module", CLIS)
def test_an_unknown_argument_is_one_line(module):
    line = one_line_error(run(module, "--no-such-flag"))
    assert "unrecognized arguments: --no-such-flag" in line


@pytest.mark.parametrize(
    ("module", "args", "message"),
    [
        ("rollups", ["--every", "0"], "--every must be at least 1 second, got 0"),
        ("rollups", ["--every", "nan"], "--every must be at least 1 second, got nan"),
        ("simulate", ["--seed", "-1"], "--seed must be between 0 and 2147483647, got -1"),
        ("simulate", ["--interval", "nan"], "--interval must be at least 1 second"),
        ("simulate", ["--hf-hours", "inf"], "--hf-hours must be between 0 and 720, got inf"),
        ("simulate", ["--end", "99999-99-99T00:00Z"], "--end is not a time"),
    ],
)
def test_a_bad_value_is_one_line(module, args, message):
    assert message in one_line_error(run(module, *args))


def test_rollups_on_a_database_never_migrated_says_what_to_do(empty_db_url):
    line = one_line_error(run("rollups", "--database-url", empty_db_url))
    assert "has no rollups yet; run python -m dashboard.migrate first" in line


@pytest.mark.parametrize("module", CLIS)
def test_each_tool_names_the_database_it_uses_in_one_line(module, empty_db_url):
    assert run("migrate", "--database-url", empty_db_url).returncode == 0
    args = ["--no-live", "--days", "1", "--plants", "1", "--machines", "1"] if module == "simulate" else []
    done = run(module, "--database-url", empty_db_url, *args)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"database: {db.describe(empty_db_url)}"


def test_a_database_that_goes_away_half_way_is_one_line(pg_admin_url, empty_db_url):
    assert run("migrate", "--database-url", empty_db_url).returncode == 0
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.rollups", "--database-url", empty_db_url, "--every", "1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout.readline().startswith("database: ")
        assert proc.stdout.readline().startswith("refreshed ")  # it works, then the database goes
        admin = db.create(pg_admin_url, pool_size=1)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'drop database "{make_url(empty_db_url).database}" with (force)'))
        admin.dispose()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    done = subprocess.CompletedProcess(proc.args, proc.returncode, "", err)
    assert "the database stopped answering" in one_line_error(done, status=1)


def test_ctrl_c_stops_a_tool_without_a_traceback(empty_db_url):
    assert run("migrate", "--database-url", empty_db_url).returncode == 0
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.rollups", "--database-url", empty_db_url, "--every", "5"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout.readline().startswith("database: ")
    assert proc.stdout.readline().startswith("refreshed ")
    time.sleep(0.2)
    proc.send_signal(2)
    _, err = proc.communicate(timeout=30)
    assert "Traceback" not in err
    assert proc.returncode == 130
