"""Migrations apply in order, once, atomically; failures are one clear sentence."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard import db, migrate

ROOT = Path(__file__).resolve().parent.parent
TABLES = {
    "plant",
    "shift",
    "line",
    "machine",
    "loss_category",
    "downtime_reason",
    "production",
    "downtime",
    "sensor",
    "telemetry",
    "material",
    "stock_policy",
    "inventory_level",
    "inventory_movement",
}


def _schema_fingerprint(engine: sa.Engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "select table_name, column_name, data_type from information_schema.columns"
                " where table_schema = 'public' order by 1, 2"
            )
        ).all()


def _tables(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text("select tablename from pg_tables where schemaname = 'public'")).scalars())


def test_fresh_database_gets_every_table(any_engine):
    assert TABLES <= _tables(any_engine)
    with any_engine.connect() as conn:
        versions = conn.execute(sa.text("select version from schema_migrations order by 1")).scalars().all()
    assert versions == [m.version for m in migrate.discover()]


def test_second_run_changes_nothing(any_engine):
    before = _schema_fingerprint(any_engine)
    assert migrate.migrate(any_engine, want_timescale=any_engine.kind == "timescale") == []
    assert _schema_fingerprint(any_engine) == before


@pytest.mark.timescale
def test_facts_are_hypertables_on_timescaledb(any_engine):
    if any_engine.kind != "timescale":
        assert not _hypertables(any_engine)
        return
    assert {"production", "downtime", "telemetry", "inventory_level", "inventory_movement"} <= _hypertables(any_engine)


def _hypertables(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        if not migrate.timescale_enabled(conn):
            return set()
        return set(conn.execute(sa.text("select hypertable_name from timescaledb_information.hypertables")).scalars())


def test_plain_postgres_records_timescale_only_files_as_skipped(db_engine):
    with db_engine.connect() as conn:
        skipped = conn.execute(sa.text("select name from schema_migrations where skipped")).scalars().all()
    assert skipped == [m.path.name for m in migrate.discover() if m.requires == "timescaledb"]
    assert not _hypertables(db_engine)


@pytest.fixture
def sql_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "sql"
    shutil.copytree(ROOT / "sql", dest)
    return dest


def _broken(sql_dir: Path) -> None:
    (sql_dir / "900_broken.sql").write_text(
        "create table half_done (id int);\ninsert into plant values ('X', 'X', 'Etc/UTC');\nselect * from no_such_table;\n"
    )


def test_failing_migration_leaves_database_as_it_was(db_engine, sql_copy):
    _broken(sql_copy)
    before = _schema_fingerprint(db_engine)
    with pytest.raises(migrate.MigrationError, match="900_broken.sql failed and was not applied.*no_such_table"):
        migrate.migrate(db_engine, sql_copy, want_timescale=False)
    assert _schema_fingerprint(db_engine) == before
    with db_engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from plant")).scalar() == 0
        assert conn.execute(sa.text("select count(*) from schema_migrations where version = '900'")).scalar() == 0


def test_no_transaction_file_runs_statements_a_transaction_refuses(db_engine, sql_copy):
    (sql_copy / "901_concurrent_index.sql").write_text(
        "-- migrate: no-transaction\ncreate index concurrently if not exists plant_name_idx on plant (name);\n"
        "create index concurrently if not exists line_name_idx on line (name);\n"
    )
    assert migrate.migrate(db_engine, sql_copy, want_timescale=False) == ["901_concurrent_index.sql"]
    with db_engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from pg_indexes where indexname = 'plant_name_idx'")).scalar() == 1


@pytest.mark.parametrize("bad_name", ["12_short.sql", "013_Upper.sql", "014-dash.sql"])
def test_badly_named_file_is_refused(sql_copy, bad_name):
    (sql_copy / bad_name).write_text("select 1;")
    with pytest.raises(migrate.MigrationError, match="not named NNN_lowercase_words.sql"):
        migrate.discover(sql_copy)


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "dashboard.migrate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
    )


def test_cli_broken_file_is_one_sentence_and_nonzero(empty_db_url, sql_copy):
    _broken(sql_copy)
    done = _cli("--database-url", empty_db_url, "--sql-dir", str(sql_copy), env={"TIMESCALEDB": "0"})
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("error: 900_broken.sql failed and was not applied")
    engine = db.create(empty_db_url)
    assert "half_done" not in _tables(engine)
    assert "plant" in _tables(engine)  # the good files before it were applied
    engine.dispose()


def test_cli_unreachable_database_is_one_sentence_and_nonzero():
    done = _cli("--database-url", "postgresql://nobody@127.0.0.1:9/nowhere")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: Cannot reach the database nowhere on 127.0.0.1:9")


def test_cli_second_run_says_up_to_date(empty_db_url):
    assert _cli("--database-url", empty_db_url, env={"TIMESCALEDB": "0"}).returncode == 0
    again = _cli("--database-url", empty_db_url, env={"TIMESCALEDB": "0"})
    assert (again.returncode, again.stdout.strip().splitlines()[-1]) == (0, "database is up to date")


@pytest.mark.parametrize(
    ("script", "count"),
    [
        ("select 1; select 2;", 2),
        ("select 'a;b'; select 2", 2),
        ("create function f() returns int language sql as $$ select 1; $$;\nselect f();", 2),
        ("create function g() returns int language plpgsql as $body$ begin return 1; end $body$; select 3;", 2),
        ("-- a comment; with a semicolon\nselect 1;\n-- trailing comment\n", 1),
    ],
)
def test_statement_splitter(script, count):
    assert len(migrate.split_statements(script)) == count
