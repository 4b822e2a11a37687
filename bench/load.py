"""Wall screens under load: locust against gunicorn (2 workers) and Redis, on 127.0.0.1 only, bounded in time.

For 10, 100 and 1,000 simulated screens refreshing every 15 s it reports requests per second, p50/p95/p99
latency, errors, and database transactions per refresh interval (pg_stat_database, the bench's own database),
so the database load for 1,000 screens can be compared with that for 10 in the same run.
Usage: python -m bench.load [--screens 10,100,1000] [--seconds 60] [--every 15]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pandas as pd
import redis
import sqlalchemy as sa
from playwright.sync_api import sync_playwright

from bench.common import ROOT, report, scratch_database
from dashboard import rollups, simulator
from dashboard.simulate import Feed
from tests.conftest import free_port

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
WALL = "/wall?plant=DET&views=oee,inventory&rotate=10"


def capture_payloads(base: str) -> list[dict]:
    """The exact callback bodies a real wall screen sends, one per slide, taken from Chromium."""
    bodies: list[dict] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(bypass_csp=True)  # the waits below are eval, which the CSP forbids
        page.on(
            "request",
            lambda r: (
                bodies.append(json.loads(r.post_data))
                if "_dash-update-component" in r.url and r.post_data and "wall-numbers" in r.post_data
                else None
            ),
        )
        page.goto(base + WALL)
        page.wait_for_function(
            "document.querySelector('#wall-view') && document.querySelector('#wall-view').innerText === 'Stock at risk'",
            timeout=30000,
        )
        browser.close()
    by_slide = {json.dumps([i for i in b["inputs"] if i["id"] == "wall-slide"]): b for b in bodies}
    return list(by_slide.values())


def transactions(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("select xact_commit + xact_rollback from pg_stat_database where datname = current_database()")
        ).scalar_one()


def stage(base: str, payloads: Path, users: int, seconds: int, every: float, engine: sa.Engine, out: Path) -> dict:
    env = {**os.environ, "WALL_PAYLOADS": str(payloads), "WALL_EVERY": str(every)}
    prefix = out / f"u{users}"
    spawn = max(1.0, users / every)  # screens come up over one interval, so they are not in lock-step
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "bench" / "locust_wall.py"),
        "--headless",
        "-H",
        base,
        "-u",
        str(users),
        "-r",
        f"{spawn:.2f}",
        "-t",
        f"{seconds}s",
        "--csv",
        str(prefix),
        "--only-summary",
    ]
    before, t0 = transactions(engine), time.monotonic()
    # locust exits 1 when any request failed; the failures are part of the figures, not a crash.
    subprocess.run(cmd, env=env, check=False, capture_output=True, text=True, timeout=seconds + 120)
    elapsed = time.monotonic() - t0
    used = transactions(engine) - before
    row = next(r for r in csv.DictReader(open(f"{prefix}_stats.csv")) if r["Name"] == "wall refresh")  # noqa: SIM115
    result = {
        "screens": users,
        "requests": int(row["Request Count"]),
        "rps": float(row["Requests/s"]),
        "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]),
        "p99_ms": float(row["99%"]),
        "errors": int(row["Failure Count"]),
        "db_transactions_per_interval": round(used / (elapsed / every), 1),
    }
    print(
        f"{users:5d} screens: {result['rps']:6.1f} req/s  p50 {result['p50_ms']:5.0f} ms  p95 {result['p95_ms']:5.0f} ms"
        f"  p99 {result['p99_ms']:5.0f} ms  errors {result['errors']}  "
        f"db transactions per {every:g} s interval {result['db_transactions_per_interval']}"
    )
    return result


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--screens", default="10,100,1000")
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--every", type=float, default=15)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--worker-class", choices=["gevent", "gthread"], default="gevent", help="gevent: as deployed")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    a = p.parse_args()
    redis.Redis.from_url(a.redis_url).flushdb()
    out = Path(tempfile.mkdtemp(prefix="pd-load-"))
    end = pd.Timestamp.now(tz="UTC").floor("min")
    with scratch_database() as engine:
        Feed(engine, simulator.topology(42, 3, 40), hf_hours=0, step_s=600, sensors=1).backfill(
            end.floor("D") - pd.Timedelta(days=6), end, progress=False
        )
        rollups.refresh(engine)
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "REDIS_URL": a.redis_url,
            "DEMO": "0",
            "WALL_REFRESH_SECONDS": str(int(a.every)),
            "REFRESH_SECONDS": str(int(a.every)),
            "LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "app:server",
                "-c",
                "deploy/gunicorn.conf.py",  # the production settings (gevent workers)
                "-w",
                str(a.workers),
                *(["-k", "gthread", "--threads", "8"] if a.worker_class == "gthread" else []),
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(120):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=2)
                    break
                except OSError:
                    time.sleep(0.5)
            payloads = out / "payloads.json"
            payloads.write_text(json.dumps(capture_payloads(base)))
            print(
                f"gunicorn {a.workers} {a.worker_class} workers, Redis cache; {len(json.loads(payloads.read_text()))} slide payloads captured"
            )
            results = [stage(base, payloads, int(n), a.seconds, a.every, engine, out) for n in a.screens.split(",")]
        finally:
            server.terminate()
            server.wait(20)
    first, last = results[0], results[-1]
    figures = [dict(name="wall_refresh", unit="ms", compared_to=None, **r) for r in results]
    figures.append(
        dict(
            name="db_load_ratio",
            value=round(last["db_transactions_per_interval"] / max(first["db_transactions_per_interval"], 0.1), 2),
            unit="x",
            compared_to=f"{first['screens']} screens",
            screens=last["screens"],
        )
    )
    report("load", figures)


if __name__ == "__main__":
    main()
