"""The orders page's questions at 90 days x 50k orders: the facts query cold and warm, and the whole page answer.

bench.queries builds a year of simulated production per engine (about 8 minutes each), too slow to rerun here, so
this bench builds its own orders once per engine (kept as pd_bench_orders_<engine> for re-runs; --rebuild starts
again): 50,000 orders over 90 days in 3 plants and 10 lines, with runs and deliveries (partials, reversals, open
orders) drawn from seeded distributions like the simulator's. Each figure is the median of several runs with its
spread (min-max); the same-run baseline is the facts query with no window (every order and delivery).
    python -m bench.orders [--engines plain,timescale] [--orders 50000] [--days 90] [--runs 5] [--rebuild]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from bench.common import admin_url, report
from dashboard import cache, data, db, ingest, migrate, simulator, viewstate
from dashboard import queries_orders as queries
from dashboard.config import Settings
from dashboard.orders import report as order_report

END = datetime(2026, 7, 1, tzinfo=UTC)
H = 3600.0


def _orders(n: int, days: int, seed: int = 7) -> dict[str, pd.DataFrame]:
    """``n`` orders created over ``days`` before END, with their runs and deliveries."""
    topo = simulator.topology(42, 3, 40)
    machines = simulator.dimensions(topo)["machine"]
    rng = np.random.default_rng(seed)
    m = machines.iloc[rng.integers(len(machines), size=n)].reset_index(drop=True)
    line_plant = {mm.line_id: mm.plant.plant_id for mm in topo.machines}
    created = pd.Timestamp(END) - pd.to_timedelta(rng.uniform(0, days * 86400, n), unit="s")
    steps = [rng.lognormal(np.log(mu), 0.7, n) * H for mu in (8, 10, 6, 18)]  # waiting, queue, production, dispatch
    released = created + pd.to_timedelta(steps[0], unit="s")
    start = released + pd.to_timedelta(steps[1], unit="s")
    finish = start + pd.to_timedelta(steps[2], unit="s")
    issue = finish + pd.to_timedelta(steps[3], unit="s")
    now = pd.Timestamp(END)
    ordered = np.round(rng.uniform(100, 3000, n), -1)
    made = np.where(rng.random(n) < 0.1, np.round(ordered * rng.uniform(0.7, 0.97, n)), ordered)
    mto = rng.random(n) < 0.6
    ids = [f"PO-{i:07d}" for i in range(n)]
    orders = pd.DataFrame(
        {
            "order_id": ids,
            "plant_id": m["line_id"].map(line_plant),
            "material_id": [f"FG-{k % 40:03d}" for k in range(n)],
            "kind": np.where(mto, "MTO", "MTS"),
            "customer": np.where(mto, "Customer " + pd.Series(rng.integers(0, 200, n)).astype(str), None),
            "qty_ordered": ordered,
            "qty_produced": np.where(finish <= now, made, 0.0),
            "line_id": m["line_id"],
            "created_at": created,
            "released_at": released.where(released <= now),
            "planned_start": start.floor("h"),
            "planned_finish": start.floor("h") + pd.Timedelta(hours=8),
            "actual_start": start.where(start <= now),
            "actual_finish": finish.where(finish <= now),
            "hold_reason": np.where((rng.random(n) < 0.08) & (start > now), "material", None),
        }
    )
    orders["actual_start"] = orders["actual_start"].where(orders["released_at"].notna())
    orders["actual_finish"] = orders["actual_finish"].where(orders["actual_start"].notna())
    runs = orders.loc[orders["actual_start"].notna(), ["order_id", "actual_start", "actual_finish", "qty_produced"]]
    runs = runs.assign(machine_id=m.loc[runs.index, "machine_id"]).rename(
        columns={"actual_start": "start_ts", "actual_finish": "end_ts", "qty_produced": "qty_good"}
    )
    promised = (finish + pd.to_timedelta(rng.uniform(20, 60, n) * H, unit="s")).tz_convert("UTC").date
    shipped = issue <= now
    partial = rng.random(n) < 0.15
    first = pd.DataFrame(
        {
            "order_id": ids,
            "delivery_no": 1,
            "promised_date": promised,
            "qty": np.where(partial, np.round(made * 0.6), made),
            "goods_issue_at": (finish + pd.to_timedelta(steps[3] * np.where(partial, 0.4, 1.0), unit="s")).where(
                shipped
            ),
        }
    )
    second = first[partial].assign(delivery_no=2, qty=(made - np.round(made * 0.6))[partial], goods_issue_at=issue[partial].where(shipped[partial]))  # fmt: skip
    back = rng.random(n) < 0.02
    rev = first[back & shipped].assign(
        delivery_no=3, qty=-np.round(made[back & shipped] * 0.2), goods_issue_at=issue[back & shipped] + pd.Timedelta(hours=30)
    )  # fmt: skip
    rev = rev[rev["goods_issue_at"] <= now]
    deliveries = pd.concat([first, second, rev], ignore_index=True)
    deliveries = deliveries[deliveries["qty"] != 0]
    return {
        **{k: v for k, v in simulator.dimensions(topo).items() if k in ("plant", "shift", "line", "machine")},
        "production_order": orders,
        "production_order_run": runs[["order_id", "machine_id", "start_ts", "end_ts", "qty_good"]],
        "delivery": deliveries,
    }


def dataset(kind: str, n: int, days: int, rebuild: bool) -> tuple[sa.Engine, bool]:
    """The kept database for this engine (built when missing): (engine, built now)."""
    admin = admin_url()
    name = f"pd_bench_orders_{kind}_{n}_{days}"
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
        migrate.migrate(engine, want_timescale=kind == "timescale")
        t = time.perf_counter()
        frames = _orders(n, days)
        with engine.begin() as conn:
            for table, frame in frames.items():
                ingest.upsert(conn, table, frame)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("vacuum analyze"))
        print(f"[{kind}] built {n:,} orders over {days} days in {time.perf_counter() - t:.0f} s")
    return engine, not exists


def runs_ms(fn, runs: int, before=None) -> list[float]:  # noqa: ANN001
    out = []
    for _ in range(runs):
        if before:
            before()
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _figure(kind: str, question: str, days: int, side: str, times: list[float], base: list[float] | None) -> dict:
    med = statistics.median(times)
    fig = dict(
        engine=kind,
        question=question,
        days=days,
        name=f"{side}_ms",
        value=round(med, 2),
        unit="ms (median)",
        spread=[round(min(times), 2), round(max(times), 2)],
        runs=len(times),
    )
    if base:
        b = statistics.median(base)
        fig |= dict(compared_to="no window (every order)", baseline=round(b, 2), ratio=round(b / med, 1))
    return fig


def bench_engine(kind: str, engine: sa.Engine, runs: int, built: bool) -> list[dict]:
    app = Flask("bench")
    data.init_app(app, engine, Settings(refresh_seconds=15, cache_timeout=300))
    clear = cache.query_cache.cache.cache.clear
    figures = []
    start_all = datetime(2000, 1, 1, tzinfo=UTC)
    baseline = runs_ms(lambda: queries.order_facts(engine, start_all, END), runs)
    print(f"\n[{kind}] {'database':9s} {'question':34s} {'range':>6s} {'median ms':>10s} {'spread ms':>16s}")
    print(f"[{kind}] {'built' if built else 'reused':9s} {'facts, no window (baseline)':34s} {'all':>6s} "
          f"{statistics.median(baseline):10.1f} {min(baseline):7.1f}-{max(baseline):<8.1f}")  # fmt: skip
    for days in (7, 30, 90):
        start = END - timedelta(days=days)
        view = viewstate.View("custom", (END - timedelta(days=days)).date(), (END - timedelta(days=1)).date())
        at = END
        with app.test_request_context():
            page = lambda: order_report.kpis(order_report.load(view, at))  # noqa: B023, E731
            cold = runs_ms(lambda: data.order_facts(start, END), runs, before=clear)  # noqa: B023
            warm = runs_ms(lambda: data.order_facts(start, END), runs * 3)  # noqa: B023
            page_cold = runs_ms(page, runs, before=clear)
            page_warm = runs_ms(page, runs * 3)
        for q, side, times in (
            ("order facts (SQL)", "cold", cold),
            ("order facts (SQL)", "warm", warm),
            ("page cards: facts + OTIF/lead/WIP", "cold", page_cold),
            ("page cards: facts + OTIF/lead/WIP", "warm", page_warm),
        ):
            print(f"[{kind}] {'built' if built else 'reused':9s} {q + ' ' + side:34s} {days:>4d} d "
                  f"{statistics.median(times):10.1f} {min(times):7.1f}-{max(times):<8.1f}")  # fmt: skip
            figures.append(_figure(kind, q, days, side, times, baseline if side == "cold" else None))
    return figures


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--engines", default="plain,timescale")
    p.add_argument("--orders", type=int, default=50_000)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--rebuild", action="store_true")
    a = p.parse_args()
    if a.runs < 3:
        p.error("--runs must be at least 3")
    figures = []
    for kind in a.engines.split(","):
        engine, built = dataset(kind, a.orders, a.days, a.rebuild)
        with engine.connect() as conn:
            if (kind == "timescale") != migrate.timescale_enabled(conn):
                print(f"[{kind}] skipped: this server cannot run it")
                continue
        figures += bench_engine(kind, engine, a.runs, built)
        engine.dispose()
    report("orders", figures)


if __name__ == "__main__":
    main()
