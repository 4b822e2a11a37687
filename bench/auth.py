"""What sign-in and plant scope cost per callback: the same warm requests with AUTH=off and AUTH=password.

Two app processes on one database of simulated data; each answers the overview callback and the wall callback
``--requests`` times (answers cached, so the gate and the scope are most of what differs).
Usage: python -m bench.auth [--requests 300]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date

import pandas as pd
import requests

from bench.common import report, scratch_database
from dashboard import accounts, rollups, simulator, viewstate
from dashboard.simulate import Feed
from tests import dash_client
from tests.conftest import AppProcess

SECRET = "bench-secret-0123456789abcdef"


def request(session: requests.Session, base: str, prefix: str, values: dict) -> dict:
    cb = dash_client.find(dash_client.server_callbacks(base, session), prefix)
    return dash_client.body(cb, dash_client.by_id(cb, values))


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
        off = AppProcess(url, LOG_LEVEL="WARNING")
        on = AppProcess(url, LOG_LEVEL="WARNING", AUTH="password", SECRET_KEY=SECRET)
        off_url, on_url = off.url, on.url
        try:
            view = {"view": viewstate.to_store(viewstate.View("7d")), "tick": 0}
            wall = {"wall-tick": 1, "wall-slide": 0, "wall-config": {"slides": [["oee", plant, "UTC"]], "refresh": 15}}
            figures = []
            for name, prefix, values in (("overview", "ov-cards", view), ("wall", "wall-plant", wall)):
                anon = requests.Session()
                base = statistics.median(timed(anon, off_url, request(anon, off_url, prefix, values), a.requests))
                line = f"{name:9s} AUTH=off {base:6.1f} ms"
                for user in ("all", "one"):
                    s, r = dash_client.sign_in(on_url, user, f"{user}-password")
                    r.raise_for_status()
                    med = statistics.median(timed(s, on_url, request(s, on_url, prefix, values), a.requests))
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
            off.stop()
            on.stop()
    print(f"({a.requests} warm requests each, {date.today()})")
    report("auth", figures)


if __name__ == "__main__":
    main()
