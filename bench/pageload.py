"""Page load in headless Chromium: first contentful paint and every chart drawn, per page, on 30 days of demo data.

Baseline in the same run: the first load after a cache flush (cold) against later loads (warm).
Usage: python -m bench.pageload [--days 30] [--machines 40] [--loads 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd
from playwright.sync_api import sync_playwright

from bench.common import report, scratch_database
from dashboard import rollups, simulator
from dashboard.simulate import Feed
from tests.conftest import AppProcess

PAGES = {"overview": "/#range=30d", "oee": "/oee#range=30d", "inventory": "/inventory#range=30d"}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
DRAWN = """() => {
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  const busy = document.querySelector('[data-dash-is-loading="true"]');
  return plots.length > 0 && !busy && plots.every(p => p._fullLayout && p.querySelector('.main-svg'));
}"""


def load(browser, url: str) -> tuple[float, float]:  # noqa: ANN001 - a Playwright browser
    """(first contentful paint, all charts drawn) in ms from navigation start."""
    page = browser.new_page(viewport={"width": 1440, "height": 900}, bypass_csp=True)  # waits are eval
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_function(DRAWN, timeout=60000, polling=20)
    drawn = (time.perf_counter() - t0) * 1000
    fcp = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")
    page.close()
    return float(fcp or 0.0), drawn


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--machines", type=int, default=40)
    p.add_argument("--loads", type=int, default=5)
    a = p.parse_args()
    end = pd.Timestamp.now(tz="UTC").floor("min")
    figures = []
    with scratch_database() as engine:
        feed = Feed(engine, simulator.topology(42, 3, a.machines), hf_hours=1, step_s=300)
        feed.backfill(end.floor("D") - pd.Timedelta(days=a.days), end)
        rollups.refresh(engine)
        app = AppProcess(engine.url.render_as_string(hide_password=False), REFRESH_SECONDS="60")
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                for name, path in PAGES.items():
                    cold_fcp, cold = load(browser, app.url + path)  # the first visit fills the cache
                    runs = [load(browser, app.url + path) for _ in range(a.loads)]
                    fcp = statistics.median(r[0] for r in runs)
                    drawn = statistics.median(r[1] for r in runs)
                    print(
                        f"{name:10s} first paint {fcp:6.0f} ms  all charts drawn {drawn:6.0f} ms (median of {a.loads}); "
                        f"first visit {cold:6.0f} ms"
                    )
                    figures += [
                        dict(
                            name=f"{name}_first_contentful_paint_ms",
                            value=round(fcp),
                            unit="ms (median)",
                            compared_to=None,
                        ),
                        dict(
                            name=f"{name}_all_charts_drawn_ms",
                            value=round(drawn),
                            unit="ms (median)",
                            compared_to="first visit (cold cache)",
                            baseline=round(cold),
                            ratio=round(cold / drawn, 2),
                        ),
                    ]
                browser.close()
        finally:
            app.stop()
    report("pageload", figures)


if __name__ == "__main__":
    main()
