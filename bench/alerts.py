"""What alerting costs: one evaluation cycle of 500 rules over 40 machines, and the database transactions it adds.

Simulated plants (3 plants, 40 machines, a day of history, the last hour at 1 Hz) and 500 rules of every kind.
Each cycle evaluates a new period (a new 'now', so the data functions' answers are not cached from the cycle before,
as in a running app), writes what changed and queues messages. Baseline: the same cycle with one rule.
Usage: python -m bench.alerts [--runs 7] [--period 30] [--database NAME (kept and reused on the next run)]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa
from flask import Flask

from bench.common import report, scratch_database
from dashboard import data, db, rollups, simulator
from dashboard.alerts import evaluate, rules
from dashboard.alerts.rules import Rule
from dashboard.config import Settings
from dashboard.simulate import Feed


def populate(engine: sa.Engine, end: pd.Timestamp) -> bool:
    """A day of simulated data ending now, unless the database has it already; True when it was written now."""
    with engine.connect() as conn:
        if conn.execute(sa.text("select exists (select 1 from production)")).scalar():
            return False
    Feed(engine, simulator.topology(42, 3, 40), hf_hours=1, step_s=600).backfill(
        end - pd.Timedelta(days=1), end, progress=False
    )
    rollups.refresh(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("analyze"))  # as autovacuum would within a minute of a bulk load; plans need the stats
    return True


def rule_set(engine: sa.Engine, n: int) -> list[Rule]:
    """``n`` rules of every kind, most of them per machine or sensor, as a large plant would have."""
    with engine.connect() as conn:
        machines = [r[0] for r in conn.execute(sa.text("select machine_id from machine order by 1"))]
        sensors = [str(r[0]) for r in conn.execute(sa.text("select sensor_id from sensor order by 1"))]
        lines = [r[0] for r in conn.execute(sa.text("select line_id from line order by 1"))]
        plants = [r[0] for r in conn.execute(sa.text("select plant_id from plant order by 1"))]
    templates = []
    for m in machines:
        templates += [("oee", "machine", m, 0.6, 3600), ("availability", "machine", m, 0.7, 3600),
                      ("performance", "machine", m, 0.8, 3600), ("quality", "machine", m, 0.95, 3600),
                      ("machine_down", "machine", m, 900, 3600), ("no_data", "machine", m, 600, 3600),
                      ("oee", "machine", m, 0.5, 900)]
    templates += [("sensor_limit", "sensor", s, 30, 3600) for s in sensors]
    templates += [(k, "plant", p, 1.0, 3600) for p in plants for k in ("stock_reorder", "stock_safety", "stock_cover")]
    templates += [(k, "line", ln, 0.6, 3600) for ln in lines for k in ("oee", "availability")]
    out, i = [], 0
    while len(out) < n:  # past the templates: the same questions with other thresholds
        kind, st, sid, thr, win = templates[i % len(templates)]
        step = i // len(templates)
        thr = min(thr + 0.01 * step, 1.0) if rules.KINDS[kind].unit == "ratio" else thr * (1 + 0.1 * step)
        out.append(Rule(0, f"bench {i} {kind} {sid}", kind, st, sid, threshold=thr, window_s=win, for_s=60,
                        clear_s=120, hysteresis=0.02, severity="warning"))
        i += 1
    return out


def install(engine: sa.Engine, chosen: list[Rule]) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("delete from alert_rule"))
        conn.execute(sa.text("delete from alert_evaluation"))
    for r in chosen:
        rules.check(r)
    cols = ["name", "kind", "subject_type", "subject_id", "plant_id", "threshold", "window_s", "for_s", "clear_s",
            "hysteresis", "severity", "manual_resolve", "enabled"]
    with engine.begin() as conn:
        conn.execute(sa.text(f"insert into alert_rule ({', '.join(cols)}) values ({', '.join(':' + c for c in cols)})"),
                     [{c: getattr(r, c) for c in cols} for r in chosen])


def cycles(engine: sa.Engine, start: datetime, period: int, n: int) -> list[evaluate.Summary]:
    return [evaluate.cycle(engine, start + timedelta(seconds=k * period), period, "http://dash") for k in range(n)]


class Transactions:
    """Transactions opened through the given engines (every statement runs in one; pool pings run inside them)."""

    def __init__(self, *engines: sa.Engine) -> None:
        self.count = 0
        for e in engines:
            sa.event.listen(e, "begin", self._one)

    def _one(self, _conn: sa.Connection) -> None:
        self.count += 1


def server_transactions(engine: sa.Engine) -> int:
    """The server's own count for this database, once idle backends have reported it (within 10 s, PostgreSQL 15+)."""
    time.sleep(11)
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "select xact_commit + xact_rollback from pg_stat_database where datname = current_database()")).scalar()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--period", type=int, default=30)
    p.add_argument("--rules", type=int, default=500)
    p.add_argument("--database", help="keep the data in this database and reuse it next time")
    a = p.parse_args()
    end = pd.Timestamp.now(tz="UTC").floor("min")
    figures = []
    with scratch_database(name=a.database) as engine:
        fresh = populate(engine, end)
        reader = db.reader(engine)
        data.init_app(Flask("bench"), reader, Settings(refresh_seconds=5))
        with engine.connect() as conn:
            n_machines = conn.execute(sa.text("select count(*) from machine")).scalar()
            data_end = conn.execute(sa.text("select max(ts) + interval '1 minute' from production")).scalar()
        print(f"database: {'fresh' if fresh else 'reused'}, {n_machines} machines, data up to {data_end:%Y-%m-%d %H:%M}")
        big = rule_set(engine, a.rules)
        counter = Transactions(engine, reader)
        results = {}
        for label, chosen in (("1 rule (baseline)", big[:1]), (f"{a.rules} rules", big)):
            install(engine, chosen)
            with engine.begin() as conn:
                conn.execute(sa.text("delete from alert_instance"))
            # Periods ending where the data ends, so a reused database is evaluated as it was when it was live.
            t0 = data_end - timedelta(seconds=(2 * a.runs + 2) * a.period)
            first = cycles(engine, t0, a.period, 1)[0]
            runs = cycles(engine, t0 + timedelta(seconds=a.period), a.period, a.runs)
            ms = [s.took_ms for s in runs]
            assert all(s.ran for s in runs)
            idle = server_transactions(engine)
            idle = server_transactions(engine) - idle  # reading the server's counter, with no cycle in between
            before, ours = server_transactions(engine), counter.count
            cycles(engine, t0 + timedelta(seconds=(a.runs + 1) * a.period), a.period, a.runs)
            per_cycle = (counter.count - ours) / a.runs
            on_server = max(server_transactions(engine) - before - idle, 0) / a.runs
            results[label] = (statistics.median(ms), min(ms), max(ms), first, per_cycle, runs[-1], on_server)
            print(f"{label:18s} first cycle {first.took_ms:7.1f} ms ({first.changed} instance(s) written) | "
                  f"then median {statistics.median(ms):6.1f} ms, spread {min(ms):.1f}-{max(ms):.1f} ms over "
                  f"{a.runs} cycles | {per_cycle:.1f} transaction(s) per cycle = {per_cycle * 60 / a.period:.0f}/min "
                  f"at ALERT_EVAL_SECONDS={a.period} (server's count: {on_server:.1f} per cycle)")
        med, lo, hi, first, per_cycle, last, on_server = results[f"{a.rules} rules"]
        base = results["1 rule (baseline)"][0]
        print(f"{a.rules} rules: {last.rules} evaluated, {last.changed} change(s) in the last cycle; "
              f"{med / base:.1f}x the one-rule cycle")
        figures += [
            dict(name=f"cycle_median_ms_{a.rules}_rules", value=round(med, 1), unit="ms", spread=[round(lo, 1),
                 round(hi, 1)], runs=a.runs, baseline=round(base, 1), compared_to="the same cycle with 1 rule",
                 database="fresh" if fresh else "reused", floor_ms=1000, aim_ms=100),
            dict(name=f"first_cycle_ms_{a.rules}_rules", value=round(first.took_ms, 1), unit="ms",
                 instances_written=first.changed),
            dict(name="transactions_per_minute", value=round(on_server * 60 / a.period, 1), unit="tx/min",
                 counted_by="pg_stat_database (pool pings included)", per_cycle=round(on_server, 2),
                 opened_by_the_app_per_cycle=round(per_cycle, 2), period_s=a.period),
        ]
        reader.dispose()
    report("alerts", figures)


if __name__ == "__main__":
    main()
