"""The REST API on gunicorn (deploy/gunicorn.conf.py, 2 gevent workers): p50/p95 per endpoint, cold and warm cache,
requests per second, and one report's PDF render; each side run --runs times in the same run, median and spread.

Baselines in the same run: /healthz (the server's own path, no token, no data) and /api/v1/plants (token check and
rate limit, a cached list). Cold requests ask for a view no one asked for before (a new custom range each time), so
the query cache misses and PostgreSQL answers; warm ones repeat one view.
Usage: python -m bench.api [--runs 3] [--warm 200] [--cold 15] [--database NAME (kept and reused)]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import requests
import sqlalchemy as sa

from bench.common import ROOT, report, scratch_database
from dashboard import accounts, config, rollups, simulator
from dashboard.reports import runner, store
from dashboard.simulate import Feed
from tests.conftest import free_port

DAYS = 14


def fill(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        if conn.execute(sa.text("select count(*) from plant")).scalar():
            return  # a kept database: reused as it is
    end = pd.Timestamp.now(tz="UTC").floor("min")
    Feed(engine, simulator.topology(42, 3, 30), hf_hours=2, step_s=300, sensors=2).backfill(
        end.floor("D") - pd.Timedelta(days=DAYS), end, progress=False
    )
    rollups.refresh(engine)


class Gunicorn:
    def __init__(self, url: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env.update(DATABASE_URL=url, PORT=str(self.port), DEMO="0", LOG_LEVEL="WARNING", API_RATE_LIMIT="1000000",
                   REPORT_CHECK_SECONDS="0", ALERT_EVAL_SECONDS="0", REFRESH_SECONDS="60")
        if os.environ.get("BENCH_REDIS_URL"):
            env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
        self.log = open(ROOT / ".data" / f"bench-api-{self.port}.log", "w")  # noqa: SIM115
        gunicorn = str(ROOT / ".venv" / "bin" / "gunicorn")
        self.proc = subprocess.Popen([gunicorn, "-c", "deploy/gunicorn.conf.py", "app:server"], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.3)
        self.stop()
        raise SystemExit("error: gunicorn did not answer /healthz in 90 s; see " + self.log.name)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)
        self.log.close()


def endpoints(sensor: int) -> dict[str, callable]:
    """name -> (k -> path): k = 0 is the warm view; k > 0 a view never asked before (cold)."""
    today = datetime.now(UTC).date()

    def view(k: int) -> str:
        if k == 0:
            return "range=7d"
        first = today - timedelta(days=DAYS - 1 - (k % 5))
        return f"range=custom&from={first}&to={today - timedelta(days=k // 5 % 3)}"

    now = datetime.now(UTC).replace(microsecond=0)
    return {
        "healthz (baseline)": lambda k: "/healthz",
        "plants (baseline)": lambda k: "/api/v1/plants",
        "oee": lambda k: f"/api/v1/oee?{view(k)}",
        "oee/groups": lambda k: f"/api/v1/oee/groups?{view(k)}&group=line",
        "oee/series": lambda k: f"/api/v1/oee/series?{view(k)}",
        "oee/daily": lambda k: f"/api/v1/oee/daily?{view(k)}&group=machine",
        "losses": lambda k: f"/api/v1/losses?{view(k)}",
        "inventory": lambda k: "/api/v1/inventory" + ("" if k == 0 else f"?plant=&limit={1000 - k}"),
        "sensor series": lambda k: f"/api/v1/sensors/{sensor}/series?from="
        + (now - timedelta(hours=1, minutes=k)).isoformat().replace("+00:00", "Z")
        + "&to=" + now.isoformat().replace("+00:00", "Z") + "&width=1000",
    }


class Failed(RuntimeError):
    """An endpoint answered something other than 200: reported, not timed."""


def _get(session: requests.Session, url: str) -> float:
    t = time.perf_counter()
    r = session.get(url, timeout=30)
    ms = (time.perf_counter() - t) * 1000
    if r.status_code != 200:
        raise Failed(f"{r.status_code}: {r.text[:120]}")
    return ms


def one_run(base: str, token: str, eps: dict, warm_n: int, cold_n: int, run: int) -> dict[str, dict[str, float]]:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    out = {}
    for name, path in eps.items():
        try:
            out[name] = _one_endpoint(s, base, name, path, warm_n, cold_n, run)
        except Failed as exc:
            out[name] = {"error": str(exc)}
            print(f"{name}: failed on gunicorn: {exc}", flush=True)
    return out


def _one_endpoint(s: requests.Session, base: str, name: str, path, warm_n: int, cold_n: int, run: int) -> dict:  # noqa: ANN001
    cold = [_get(s, base + path(1 + run * cold_n + i)) for i in range(cold_n)] if "baseline" not in name else []
    for _ in range(5):
        _get(s, base + path(0))
    warm = [_get(s, base + path(0)) for _ in range(warm_n)]
    out = {"warm_p50": float(np.percentile(warm, 50)), "warm_p95": float(np.percentile(warm, 95))}
    if cold:
        out |= {"cold_p50": float(np.percentile(cold, 50)), "cold_p95": float(np.percentile(cold, 95))}
    return out


def throughput(base: str, token: str, path: str, seconds: float = 3.0, clients: int = 16) -> float:
    stop = time.monotonic() + seconds

    def client(_: int) -> int:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {token}"
        n = 0
        while time.monotonic() < stop:
            s.get(base + path, timeout=30).raise_for_status()
            n += 1
        return n

    t = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        total = sum(pool.map(client, range(clients)))
    return total / (time.monotonic() - t)


def spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 2), "min": round(min(values), 2), "max": round(max(values), 2)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--warm", type=int, default=200)
    p.add_argument("--cold", type=int, default=15)
    p.add_argument("--database", help="keep the data in this database and reuse it next time")
    a = p.parse_args()
    (ROOT / ".data").mkdir(exist_ok=True)
    with scratch_database(name=a.database) as engine:
        reused = a.database is not None and bool(engine.connect().execute(sa.text("select count(*) from plant")).scalar())
        t = time.monotonic()
        fill(engine)
        print(f"database: {'reused' if reused else 'fresh'} ({time.monotonic() - t:.0f} s to fill)", flush=True)
        with engine.begin() as conn:
            conn.execute(sa.text("delete from api_token where name = 'bench'"))
            conn.execute(sa.text("delete from report where name = 'bench'"))
        token = accounts.add_api_token(engine, "bench", [], all_plants=True)
        sensor = int(engine.connect().execute(sa.text("select min(sensor_id) from sensor")).scalar())
        plant = str(engine.connect().execute(sa.text("select min(plant_id) from plant")).scalar())
        server = Gunicorn(engine.url.render_as_string(hide_password=False))
        try:
            eps = endpoints(sensor)
            runs = [one_run(server.base, token, eps, a.warm, a.cold, r) for r in range(a.runs)]
            rps = [throughput(server.base, token, "/api/v1/oee?range=7d") for _ in range(a.runs)]
            rps_base = [throughput(server.base, token, "/healthz") for _ in range(a.runs)]
            store.add(engine, "bench", "/", "#range=7d", plant, "daily", "07:00", ["bench@example.com"])
            rep = store.get(engine, "bench")
            settings = config.load({"ALERT_BASE_URL": server.base})
            pdf_s = []
            for _ in range(a.runs):
                t = time.perf_counter()
                runner.pdf(engine, settings, rep, datetime.now(UTC))
                pdf_s.append(time.perf_counter() - t)
        finally:
            server.stop()
    figures = []
    print(f"{'endpoint':22} {'warm p50':>16} {'warm p95':>16} {'cold p50':>16} {'cold p95':>16}   (ms: median [min-max])")
    for name in eps:
        row = {"endpoint": name}
        if errors := [r[name]["error"] for r in runs if "error" in r[name]]:
            print(f"{name:22} FAILED: {errors[0]}")
            figures.append(row | {"error": errors[0]})
            continue
        cells = []
        for key in ("warm_p50", "warm_p95", "cold_p50", "cold_p95"):
            vals = [r[name][key] for r in runs if key in r[name]]
            if vals:
                row[key] = spread(vals)
                cells.append(f"{row[key]['median']:7.1f} [{row[key]['min']:.1f}-{row[key]['max']:.1f}]")
            else:
                cells.append(f"{'-':>16}")
        print(f"{name:22} " + " ".join(f"{c:>16}" for c in cells))
        figures.append(row)
    ok = [n for n in eps if "baseline" not in n and all("error" not in r[n] for r in runs)]
    worst = max(statistics.median([r[n]["warm_p95"] for r in runs]) for n in ok)
    print(f"requests/s, /api/v1/oee warm, 16 clients: {spread(rps)}; /healthz baseline: {spread(rps_base)}")
    print(f"report PDF render (overview, 7 days, Chromium print): {spread(pdf_s)} s")
    print(f"floor: warm p95 < 100 ms on every endpoint: {'ok' if worst < 100 else 'NOT MET'} (worst {worst:.1f} ms)")
    figures += [{"rps_oee": spread(rps), "rps_healthz": spread(rps_base), "pdf_s": spread(pdf_s),
                 "worst_warm_p95_ms": round(worst, 2), "runs": a.runs, "database": "reused" if reused else "fresh",
                 "cpus": os.cpu_count(), "python": sys.version.split()[0]}]
    report("api", figures)


if __name__ == "__main__":
    main()
