"""Wall screens across several hosts: 2 gunicorn hosts in network namespaces behind HAProxy, Redis, a primary and a
hot standby (tests/cluster_harness.py), with each fault of tests/test_cluster.py in turn.

For 1,000 and 3,000 screens refreshing every 15 s it prints p50/p95/p99, errors and database transactions per
refresh interval on the primary and on the standby, before, during and after each fault; the "before" window of
the same run is the baseline each fault window is compared with. Needs root (ip netns). Loopback and the
harness's own veth links only; bounded by --seconds per window.
Usage: sudo .venv/bin/python -m bench.cluster [--screens 1000,3000] [--seconds 20] [--runs 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import sqlalchemy as sa

from bench.common import report
from tests.cluster_harness import Cluster, WallLoad, namespaces_allowed

EVERY = 15.0


def _xacts(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("select xact_commit + xact_rollback from pg_stat_database where datname = 'plant'")
        ).scalar_one()


def _window(c: Cluster, load: WallLoad, name: str, seconds: float) -> dict:
    """One measured window: the screens' requests sent in it, and each server's transactions per interval."""
    p, s = c.primary(), c.standby()
    counts = {}
    for label, engine in (("primary", p), ("standby", s)):
        try:
            counts[label] = _xacts(engine)
        except Exception:  # noqa: BLE001 - that server is the one stopped in this window
            counts[label] = None
    load.phase, t0 = name, time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - t0
    out = {}
    for label, engine in (("primary", p), ("standby", s)):
        try:
            end = _xacts(engine)
            # pg_stat_database counts this bench's own two queries too; they are left in, and are the same each time
            out[f"{label}_xacts_per_interval"] = (
                None if counts[label] is None else round((end - counts[label]) / (elapsed / EVERY), 1)
            )
        except Exception:  # noqa: BLE001
            out[f"{label}_xacts_per_interval"] = None
    p.dispose()
    s.dispose()
    return out


def _stats(load: WallLoad, name: str) -> dict:
    ms = sorted(x.ms for x in load.samples if x.phase == name)
    if not ms:
        return {"requests": 0}
    q = lambda f: round(ms[min(len(ms) - 1, int(len(ms) * f))], 1)  # noqa: E731
    return {
        "requests": len(ms),
        "p50_ms": q(0.50),
        "p95_ms": q(0.95),
        "p99_ms": q(0.99),
        "errors": len(load.failures(name)),
        "kept_last_numbers": sum(1 for x in load.samples if x.phase == name and x.status == 204),
    }


def faults(c: Cluster) -> list[tuple[str, Callable[[], None], Callable[[], None]]]:
    host = c.hosts[0]
    return [
        ("app host stopped", lambda: c.stop_host(host), lambda: c.start_host(host)),
        ("standby stopped", c.stop_standby, c.start_standby),
        ("redis stopped", c.stop_redis, c.start_redis),
        ("primary restarted", c.restart_primary, lambda: None),
    ]


def run_once(c: Cluster, screens: int, seconds: float, payloads: list[dict]) -> list[dict]:
    load = WallLoad(c.lb, payloads, screens, EVERY, threads=min(200, max(20, screens // 15))).start()
    rows = []
    try:
        time.sleep(EVERY)  # every screen has asked once: warm, spread over the interval
        for name, fault, recover in faults(c):
            for when, act in (("before", None), ("during", fault), ("after", recover)):
                if act is not None:
                    act()
                label = f"{name}|{when}"
                db = _window(c, load, label, seconds)
                rows.append({"screens": screens, "fault": name, "window": when, **db})
    finally:
        load.stop()
    for r in rows:
        r.update(_stats(load, f"{r['fault']}|{r['window']}"))
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--screens", default="1000,3000")
    p.add_argument("--seconds", type=float, default=20, help="length of each before/during/after window")
    p.add_argument("--runs", type=int, default=1, help="repeat each screen count (3 where time allows)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers per host")
    a = p.parse_args()
    why = namespaces_allowed()
    if why:
        print(f"error: bench.cluster {why}", file=sys.stderr)
        return 2
    c = Cluster(hosts_n=2, workers=a.workers, refresh_s=int(EVERY)).start()
    try:
        payloads = c.wall_payloads()
        results = []
        for n in (int(x) for x in a.screens.split(",")):
            for run in range(a.runs):
                rows = run_once(c, n, a.seconds, payloads)
                for r in rows:
                    r["run"] = run + 1
                    print(
                        f"{n:5d} screens run {run + 1} {r['fault']:18s} {r['window']:6s}: {r.get('requests', 0):5d} req"
                        f"  p50 {r.get('p50_ms', 0):6.0f}  p95 {r.get('p95_ms', 0):6.0f}  p99 {r.get('p99_ms', 0):6.0f} ms"
                        f"  errors {r.get('errors', 0)}  kept {r.get('kept_last_numbers', 0)}"
                        f"  xacts/interval primary {r['primary_xacts_per_interval']} standby {r['standby_xacts_per_interval']}"
                    )
                results += rows
    finally:
        c.close()
    figures = []
    for n in sorted({r["screens"] for r in results}):
        mine = [r for r in results if r["screens"] == n]
        outside = [r for r in mine if r["window"] != "during"]
        base = statistics.median(r["p95_ms"] for r in mine if r["window"] == "before" and "p95_ms" in r)
        figures.append(
            dict(
                name="p95_outside_faults",
                screens=n,
                value=max(r.get("p95_ms", 0) for r in outside),
                unit="ms",
                compared_to=f"median 'before' window p95 of the same run: {base} ms",
                errors=sum(r.get("errors", 0) for r in mine),
                floor_met=all(r.get("errors", 0) == 0 for r in mine) and all(r.get("p95_ms", 0) < 200 for r in outside),
            )
        )
    report("cluster", figures + [dict(name="window", unit="ms", **r) for r in results])
    return 0


if __name__ == "__main__":
    sys.exit(main())
