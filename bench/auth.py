"""What sign-in and plant scope cost per callback: the same warm requests with AUTH=off and AUTH=password.

Two app processes on one database of simulated data; each answers the overview callback and the wall callback
``--requests`` times (answers cached, so the gate and the scope are most of what differs).
Usage: python -m bench.auth [--requests 300]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import date

import pandas as pd
import requests

from bench.common import ROOT, report, scratch_database
from dashboard import accounts, rollups, simulator, viewstate
from dashboard.simulate import Feed
from tests.conftest import free_port

SECRET = "bench-secret-0123456789abcdef"


def start(url: str, **env: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    full = {**os.environ, "DATABASE_URL": url, "PORT": str(port), "DEMO": "0", "LOG_LEVEL": "WARNING", **env}
    full.pop("REDIS_URL", None)
    log = open(ROOT / ".data" / f"bench-auth-{port}.log", "w")  # noqa: SIM115 - the app's own log, for when it fails
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=full, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            requests.get(base + "/healthz", timeout=2)
            return proc, base
        except requests.ConnectionError:
            time.sleep(0.25)
    raise RuntimeError("app did not start")


def body(session: requests.Session, base: str, prefix: str, values: dict) -> dict:
    cb = next(c for c in session.get(base + "/_dash-dependencies").json() if c["output"].lstrip(".").startswith(prefix))
    parts = cb["output"][2:-2].split("...")
    return {
        "output": cb["output"],
        "outputs": [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts],
        "inputs": [dict(d, value=values.get(d["id"])) for d in cb["inputs"]],
        "state": [dict(d, value=values.get(d["id"])) for d in cb.get("state", [])],
        "changedPropIds": [f"{cb['inputs'][0]['id']}.{cb['inputs'][0]['property']}"],
    }


def signed_in(base: str, user: str) -> requests.Session:
    s = requests.Session()
    csrf = re.search(r'name="csrf" value="([^"]+)"', s.get(base + "/login").text).group(1)
    s.post(base + "/login", data={"username": user, "password": f"{user}-password", "csrf": csrf}).raise_for_status()
    return s


def timed(session: requests.Session, base: str, payload: dict, n: int) -> list[float]:
    for _ in range(5):  # warm the cache
        session.post(base + "/_dash-update-component", json=payload).raise_for_status()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        session.post(base + "/_dash-update-component", json=payload).raise_for_status()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--requests", type=int, default=300)
    a = p.parse_args()
    end = pd.Timestamp.now(tz="UTC").floor("min")
    with scratch_database() as engine:
        Feed(engine, simulator.topology(42, 3, 30), hf_hours=0, step_s=600, sensors=1).backfill(
            end.floor("D") - pd.Timedelta(days=2), end, progress=False
        )
        rollups.refresh(engine)
        plant = engine.connect().exec_driver_sql("select min(plant_id) from plant").scalar()
        accounts.add_user(engine, "one", "one-password", [plant])
        accounts.add_user(engine, "all", "all-password", [], all_plants=True)
        url = engine.url.render_as_string(hide_password=False)
        off, off_url = start(url)
        on, on_url = start(url, AUTH="password", SECRET_KEY=SECRET)
        try:
            view = {"view": viewstate.to_store(viewstate.View("7d")), "tick": 0}
            wall = {"wall-tick": 1, "wall-slide": 0, "wall-config": {"slides": [["oee", plant, "UTC"]], "refresh": 15}}
            figures = []
            for name, prefix, values in (("overview", "ov-cards", view), ("wall", "wall-plant", wall)):
                anon = requests.Session()
                base = statistics.median(timed(anon, off_url, body(anon, off_url, prefix, values), a.requests))
                line = f"{name:9s} AUTH=off {base:6.1f} ms"
                for user in ("all", "one"):
                    s = signed_in(on_url, user)
                    med = statistics.median(timed(s, on_url, body(s, on_url, prefix, values), a.requests))
                    line += f" | signed in, {user} plant(s) {med:6.1f} ms ({med / base:.2f}x)"
                    figures.append(
                        dict(
                            name=f"{name}_callback_median_ms_{user}_plants",
                            value=round(med, 2),
                            unit="ms",
                            compared_to="AUTH=off, same app and data",
                            baseline=round(base, 2),
                            ratio=round(med / base, 2),
                        )
                    )
                print(line + "  (medians)")
        finally:
            for proc in (off, on):
                proc.terminate()
                proc.wait(10)
    print(f"({a.requests} warm requests each, {date.today()})")
    report("auth", figures)


if __name__ == "__main__":
    main()
