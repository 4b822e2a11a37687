"""Shared bench helpers: a scratch database, timing, and the closing JSON line."""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from dashboard import db, migrate

ROOT = Path(__file__).resolve().parent.parent
MACHINE_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_url() -> str:
    """BENCH_DATABASE_URL, else the machine's PostgreSQL, else the embedded one."""
    url = os.environ.get("BENCH_DATABASE_URL") or MACHINE_PG
    engine = db.create(url, pool_size=1)
    try:
        db.check(engine)
        return url
    except db.DatabaseError:
        return db.start_embedded(ROOT / ".data" / "bench")
    finally:
        engine.dispose()


@contextmanager
def scratch_database(
    timescale: bool | None = False, keep: bool = False, name: str | None = None
) -> Iterator[sa.Engine]:
    """A new migrated database, dropped afterwards unless ``keep``; a given ``name`` is reused if it exists, and kept."""
    admin = admin_url()
    keep = keep or name is not None
    name = name or f"pd_bench_{uuid.uuid4().hex[:8]}"
    a = db.create(admin, pool_size=1)
    with a.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        exists = conn.execute(sa.text("select 1 from pg_database where datname = :n"), {"n": name}).scalar()
        if not exists:
            conn.execute(sa.text(f'create database "{name}"'))
    url = make_url(db.normalise_url(admin)).set(database=name)
    engine = db.create(url.render_as_string(hide_password=False))
    migrate.migrate(engine, want_timescale=timescale)
    try:
        yield engine
    finally:
        engine.dispose()
        if not keep:
            with a.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        a.dispose()


def timed(fn: Callable[[], object], repeat: int = 1) -> tuple[float, list[float]]:
    """Median seconds of ``repeat`` runs, and every run."""
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs), runs


def report(name: str, figures: list[dict]) -> None:
    """The closing line every bench prints: one JSON object holding its figures."""
    print(json.dumps({"bench": name, "figures": figures}))
