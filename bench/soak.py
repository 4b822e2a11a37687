"""A wall page left running: server memory and browser JS heap sampled over time, to see that both stay flat.

Short mode (default) runs a few minutes; `--minutes 60` is the hour to run by hand. The app refreshes every
5 s (the wall's minimum), so an hour is 720 refreshes and several hundred slide rotations.
Usage: python -m bench.soak [--minutes 3] [--every 15]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd
import psutil
from playwright.sync_api import sync_playwright

from bench.common import report, scratch_database
from dashboard import rollups, simulator
from dashboard.simulate import Feed
from tests.conftest import AppProcess

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--enable-precise-memory-info"]


def slope_per_hour(t: list[float], y: list[float]) -> float:
    """Least-squares growth per hour of the second half of the samples (after warm-up)."""
    half = len(t) // 2
    if len(t) - half < 2:
        return float("nan")
    return float(np.polyfit(np.array(t[half:]) / 3600, np.array(y[half:]), 1)[0])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=3)
    p.add_argument("--every", type=float, default=15, help="seconds between samples")
    a = p.parse_args()
    end = pd.Timestamp.now(tz="UTC").floor("min")
    with scratch_database() as engine:
        feed = Feed(engine, simulator.topology(42, 3, 12), hf_hours=0, step_s=600, sensors=1)
        feed.backfill(end.floor("D") - pd.Timedelta(days=1), end, progress=False)
        rollups.refresh(engine)
        app = AppProcess(engine.url.render_as_string(hide_password=False), WALL_REFRESH_SECONDS="5")
        server = psutil.Process(app.proc.pid)
        samples = []
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                page = browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
                page.goto(app.url + "/wall?views=oee,inventory&rotate=10&refresh=5")
                t0 = time.monotonic()
                while time.monotonic() - t0 < a.minutes * 60:
                    page.wait_for_timeout(a.every * 1000)
                    heap = page.evaluate("performance.memory.usedJSHeapSize") / 2**20
                    rss = server.memory_info().rss / 2**20
                    t = time.monotonic() - t0
                    samples.append((t, rss, heap))
                    print(f"{t:6.0f} s  server RSS {rss:7.1f} MiB  browser JS heap {heap:6.1f} MiB", flush=True)
                browser.close()
        finally:
            app.stop()
    t, rss, heap = (list(x) for x in zip(*samples, strict=True))
    figures = [
        dict(
            name="server_rss_growth",
            value=round(slope_per_hour(t, rss), 1),
            unit="MiB/hour (2nd half)",
            compared_to="first sample",
            first=round(rss[0], 1),
            last=round(rss[-1], 1),
            median=round(statistics.median(rss), 1),
        ),
        dict(
            name="browser_heap_growth",
            value=round(slope_per_hour(t, heap), 1),
            unit="MiB/hour (2nd half)",
            compared_to="first sample",
            first=round(heap[0], 1),
            last=round(heap[-1], 1),
            median=round(statistics.median(heap), 1),
        ),
    ]
    print(
        f"over {t[-1] / 60:.1f} min: server RSS {rss[0]:.1f} -> {rss[-1]:.1f} MiB, JS heap {heap[0]:.1f} -> {heap[-1]:.1f} MiB"
    )
    report("soak", figures)


if __name__ == "__main__":
    main()
