"""Page queries on a year x 40 machines: rollups against raw rows, warm cache against cold, per range.

Builds the dataset with the simulator once per engine (kept as pd_bench_year_<engine> for re-runs),
then times each question as the median of several runs. Usage:
    python -m bench.queries [--engines plain,timescale] [--machines 40] [--days 365] [--rebuild]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

import pandas as pd
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from bench.common import admin_url, report
from dashboard import cache, data, db, migrate, queries, rollups, simulator
from dashboard.config import Settings
from dashboard.simulate import Feed

END = datetime(2026, 7, 1, tzinfo=UTC)
RANGES = [1, 7, 30, 365]


def dataset(engine_kind: str, machines: int, days: int, rebuild: bool) -> sa.Engine:
    admin = admin_url()
    name = f"pd_bench_year_{engine_kind}_{machines}_{days}"
    a = db.create(admin, pool_size=1)
    with a.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        exists = conn.execute(sa.text("select 1 from pg_database where datname = :n"), {"n": name}).first()
        if exists and rebuild:
            conn.execute(sa.text(f"drop database {name} with (force)"))
            exists = None
        if not exists:
            conn.execute(sa.text(f"create database {name}"))
    a.dispose()
    engine = db.create(make_url(db.normalise_url(admin)).set(database=name).render_as_string(hide_password=False))
    if not exists:
        migrate.migrate(engine, want_timescale=engine_kind == "timescale")
        feed = Feed(engine, simulator.topology(42, 3, machines), hf_hours=0, step_s=3600, sensors=1)
        t = time.perf_counter()
        feed.backfill(END - timedelta(days=days), END)
        print(f"[{engine_kind}] built {sum(feed.written.values()):,} rows in {time.perf_counter() - t:.0f} s")
        t = time.perf_counter()
        rollups.refresh(engine)
        print(f"[{engine_kind}] first rollup refresh {time.perf_counter() - t:.1f} s")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("vacuum analyze"))
    return engine


def median_ms(fn, runs: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _questions(engine: sa.Engine, days: int) -> dict[str, tuple]:
    """Each page question as (from rollups, from raw rows, through the cache)."""
    start = END - timedelta(days=days)
    first, last = start.date(), (END - timedelta(days=1)).date()
    bucket = queries.choose_bucket(start, END, 1200)
    if isinstance(bucket, int):
        trend = (
            lambda: queries.oee_series(engine, start, END, bucket, "plant"),
            lambda: queries.oee_series(engine, start, END, bucket, "plant", raw=True),
            lambda: data.oee_series(start, END, bucket, "plant"),
        )
    else:
        trend = (
            lambda: queries.oee_daily(engine, first, last, "plant"),
            lambda: queries.oee_daily_raw(engine, first, last, "plant"),
            lambda: data.oee_daily(first, last, "plant"),
        )
    return {
        "oee by plant (totals)": (
            lambda: queries.oee_totals(engine, start, END, "plant"),
            lambda: queries.oee_totals(engine, start, END, "plant", raw=True),
            lambda: data.oee_totals(start, END, "plant"),
        ),
        f"oee trend by plant ({bucket if isinstance(bucket, str) else str(bucket // 60) + ' min'})": trend,
        "oee by machine (totals)": (
            lambda: queries.oee_totals(engine, start, END, "machine"),
            lambda: queries.oee_totals(engine, start, END, "machine", raw=True),
            lambda: data.oee_totals(start, END, "machine"),
        ),
    }


def bench_engine(kind: str, engine: sa.Engine, redis_url: str) -> list[dict]:
    figures = []
    plants = queries.plants(engine)
    print(
        f"\n[{kind}] {'question':28s} {'range':>6s} {'rollup ms':>10s} {'raw ms':>10s} {'ratio':>7s} {'cold ms':>8s} {'warm ms':>8s}"
    )
    for days in RANGES:
        questions = _questions(engine, days)
        for q, (rollup_fn, raw_fn, cached_fn) in questions.items():
            rollup_fn()  # warm the server's buffers: we compare query plans, not disk reads
            r_ms = median_ms(rollup_fn, 7)
            raw_ms = median_ms(raw_fn, 3 if days >= 30 else 5)
            cold = []
            for _ in range(5):
                cache.query_cache.cache.cache.clear()
                t = time.perf_counter()
                cached_fn()
                cold.append((time.perf_counter() - t) * 1000)
            warm_ms = median_ms(cached_fn, 25)
            cold_ms = statistics.median(cold)
            label = f"{days} d"
            print(
                f"[{kind}] {q:28s} {label:>6s} {r_ms:10.1f} {raw_ms:10.1f} {raw_ms / r_ms:6.1f}x {cold_ms:8.1f} {warm_ms:8.2f}"
            )
            base = dict(engine=kind, question=q, days=days, plants=len(plants))
            figures += [
                dict(
                    name="rollup_query_ms",
                    value=round(r_ms, 2),
                    unit="ms (median)",
                    compared_to="raw rows",
                    baseline=round(raw_ms, 2),
                    ratio=round(raw_ms / r_ms, 1),
                    **base,
                ),
                dict(
                    name="cache_warm_ms",
                    value=round(warm_ms, 3),
                    unit="ms (median)",
                    compared_to="cold cache",
                    baseline=round(cold_ms, 2),
                    ratio=round(cold_ms / warm_ms, 1),
                    **base,
                ),
            ]
    return figures


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--engines", default="plain,timescale")
    p.add_argument("--machines", type=int, default=40)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    p.add_argument("--rebuild", action="store_true")
    a = p.parse_args()
    figures = []
    for kind in a.engines.split(","):
        engine = dataset(kind, a.machines, a.days, a.rebuild)
        with engine.connect() as conn:
            if (kind == "timescale") != migrate.timescale_enabled(conn):
                print(f"[{kind}] skipped: this server cannot run it")
                continue
        data.init_app(Flask("bench"), engine, Settings(redis_url=a.redis_url, refresh_seconds=15))
        with engine.connect() as conn:
            n = conn.execute(sa.text("select count(*) from production")).scalar_one()
        print(f"[{kind}] {n:,} production rows, {a.machines} machines, {a.days} days; cache {cache.query_cache.kind}")
        figures += bench_engine(kind, engine, a.redis_url)
        engine.dispose()
    pd.set_option("display.width", 200)
    report("queries", figures)


if __name__ == "__main__":
    main()
