"""Apply sql/NNN_*.sql in order, once each, recorded in schema_migrations; `python -m dashboard.migrate`."""

from __future__ import annotations

import argparse
import hashlib
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dashboard import cli, config, db

log = logging.getLogger(__name__)

SQL_DIR = config.ROOT / "sql"
_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_LOCK_KEY = 727_001  # advisory lock: several workers starting at once migrate one at a time


class MigrationError(RuntimeError):
    """A migration could not be applied; the database is as it was before that file."""


@dataclass(frozen=True)
class Migration:
    version: str
    path: Path
    sql: str
    transactional: bool
    requires: str | None  # "timescaledb", "plain" or None

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    def applies_to(self, timescale: bool) -> bool:
        if self.requires == "timescaledb":
            return timescale
        if self.requires == "plain":
            return not timescale
        return True


def discover(sql_dir: Path = SQL_DIR) -> list[Migration]:
    """Every migration file in order; directives sit in `-- migrate:` comment lines."""
    found = []
    for path in sorted(sql_dir.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise MigrationError(f"{path.name} is not named NNN_lowercase_words.sql.")
        sql = path.read_text()
        directives = set(re.findall(r"^--\s*migrate:\s*([a-z-]+(?: [a-z]+)?)\s*$", sql, re.M))
        requires = None
        if "requires timescaledb" in directives:
            requires = "timescaledb"
        elif "requires plain" in directives:
            requires = "plain"
        found.append(Migration(m.group(1), path, sql, "no-transaction" not in directives, requires))
    versions = [mig.version for mig in found]
    if len(set(versions)) != len(versions):
        raise MigrationError("Two migration files share a number in sql/.")
    return found


def timescale_available(conn: Connection) -> bool:
    """The extension is installed on the server and preloaded, so CREATE EXTENSION will work."""
    row = conn.execute(
        sa.text(
            "select exists(select 1 from pg_available_extensions where name = 'timescaledb')"
            " and current_setting('shared_preload_libraries') like '%timescaledb%'"
        )
    ).scalar_one()
    return bool(row)


def timescale_enabled(conn: Connection) -> bool:
    return bool(
        conn.execute(sa.text("select exists(select 1 from pg_extension where extname = 'timescaledb')")).scalar_one()
    )


def _prepare(conn: Connection, want_timescale: bool | None) -> bool:
    """Create the ledger; on a database never migrated before, choose the engine once and for all."""
    conn.execute(
        sa.text(
            "create table if not exists schema_migrations ("
            " version text primary key, name text not null, checksum text not null,"
            " applied_at timestamptz not null default now(), skipped boolean not null default false)"
        )
    )
    fresh = conn.execute(sa.text("select count(*) from schema_migrations")).scalar_one() == 0
    enabled = timescale_enabled(conn)
    if fresh and not enabled and want_timescale is not False and timescale_available(conn):
        conn.execute(sa.text("create extension if not exists timescaledb"))
        enabled = True
    if want_timescale and not enabled:
        raise MigrationError(
            "TIMESCALEDB=1 but this database was set up without the timescaledb extension"
            " (or it is not installed and preloaded on the server)."
        )
    return enabled


def _record(conn: Connection, mig: Migration, skipped: bool) -> None:
    conn.execute(
        sa.text("insert into schema_migrations (version, name, checksum, skipped) values (:v, :n, :c, :s)"),
        {"v": mig.version, "n": mig.path.name, "c": mig.checksum, "s": skipped},
    )


_TOKEN = re.compile(r"--[^\n]*|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|(\$[A-Za-z_]*\$)|;", re.S)


def split_statements(sql: str) -> list[str]:
    """Split a script on semicolons outside quotes, comments and dollar-quoted bodies."""
    out, start, pos = [], 0, 0
    while (m := _TOKEN.search(sql, pos)) is not None:
        if m.group(1):  # skip to the closing dollar quote
            close = sql.find(m.group(1), m.end())
            pos = len(sql) if close < 0 else close + len(m.group(1))
            continue
        if m.group(0) == ";":
            out.append(sql[start : m.end()])
            start = m.end()
        pos = m.end()
    out.append(sql[start:])
    return [s.strip() for s in out if re.sub(r"--[^\n]*", "", s).strip(" ;\n\t")]


def _run_script(conn: Connection, sql: str) -> None:
    # The driver's own cursor with no parameters, so a literal % in a migration is just a %.
    with conn.connection.driver_connection.cursor() as cur:
        cur.execute(sql)


def _apply_one(engine: Engine, mig: Migration, timescale: bool) -> None:
    skipped = not mig.applies_to(timescale)
    try:
        if mig.transactional or skipped:
            with engine.begin() as conn:
                if not skipped:
                    _run_script(conn, mig.sql)
                _record(conn, mig, skipped)
        else:
            # TimescaleDB refuses continuous aggregates inside a transaction block, so each statement
            # commits on its own; such files must be written to be safe to run again.
            # A multi-statement string would still be one implicit transaction, so send them one by one.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for statement in split_statements(mig.sql):
                    _run_script(conn, statement)
                _record(conn, mig, skipped)
    except (sa.exc.DBAPIError, psycopg2.Error) as exc:
        orig = getattr(exc, "orig", None) or exc
        reason = str(orig).strip().splitlines()[0]
        raise MigrationError(f"{mig.path.name} failed and was not applied: {reason}.") from None


def migrate(engine: Engine, sql_dir: Path = SQL_DIR, want_timescale: bool | None = None) -> list[str]:
    """Apply every pending migration; return the names applied (empty when up to date)."""
    migrations = discover(sql_dir)
    applied: list[str] = []
    with engine.connect() as lock_conn:
        lock_conn.execute(sa.text("select pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
        try:
            with engine.begin() as conn:
                timescale = _prepare(conn, want_timescale)
                done = dict(conn.execute(sa.text("select version, checksum from schema_migrations")).all())
            for mig in migrations:
                if mig.version in done:
                    if done[mig.version] != mig.checksum:
                        log.warning("%s changed after it was applied; it is not applied again", mig.path.name)
                    continue
                _apply_one(engine, mig, timescale)
                applied.append(mig.path.name)
                how = "applied" if mig.applies_to(timescale) else f"recorded (it needs {mig.requires}, skipped)"
                log.info("%s %s", how, mig.path.name)
        finally:
            lock_conn.execute(sa.text("select pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
            lock_conn.commit()
    return applied


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(description="Apply the SQL migrations in sql/ to DATABASE_URL.")
    parser.add_argument("--database-url", help="defaults to $DATABASE_URL, or the embedded demo server")
    parser.add_argument("--sql-dir", type=Path, default=SQL_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)

    def body() -> int:
        settings = config.load()
        engine = db.create(cli.database_url(settings, args.database_url), pool_size=1)
        db.check(engine)
        if not migrate(engine, args.sql_dir, settings.timescaledb):
            print("database is up to date")
        return 0

    return cli.run(body, MigrationError)


if __name__ == "__main__":
    sys.exit(main())
