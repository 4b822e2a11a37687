"""Screenshot the explorer zooming from a year to a minute: `python scripts/shoot_zoom.py URL AROUND OUT_PREFIX`.

AROUND is a wall-clock time in the plant's zone (e.g. 2026-02-10T14:30) to zoom in on; shots are OUT_PREFIX-1-year.png
and so on, each taken once the server's answer for that window is on screen.
"""

from __future__ import annotations

import argparse

import pandas as pd
from playwright.sync_api import sync_playwright
from shoot import ARGS, CHROMIUM

STEPS = [
    ("2-day", pd.Timedelta(hours=12)),
    ("3-hour", pd.Timedelta(minutes=30)),
    ("4-minute", pd.Timedelta(seconds=30)),
]
GRAPH = "document.querySelector('#exp-graph .js-plotly-plot')"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("around")
    p.add_argument("out")
    p.add_argument("--size", default="1440x900")
    a = p.parse_args()
    w, h = (int(x) for x in a.size.split("x"))
    centre = pd.Timestamp(a.around)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": w, "height": h}, bypass_csp=True)  # our waits are eval
        page.goto(a.url.rstrip("/") + "/explorer")
        page.wait_for_selector("#exp-graph .main-svg")
        page.get_by_text("1 year").click()
        page.wait_for_function(
            f"{GRAPH} && {GRAPH}._fullData.length > 0 && "
            "document.querySelector('#exp-info').innerText.includes('readings')",
            timeout=30000,
        )
        page.wait_for_timeout(1500)
        page.screenshot(path=f"{a.out}-1-year.png", full_page=True)
        for name, half in STEPS:
            before = page.inner_text("#exp-info")
            lo, hi = (centre - half).strftime("%Y-%m-%d %H:%M:%S"), (centre + half).strftime("%Y-%m-%d %H:%M:%S")
            page.evaluate(f"Plotly.relayout({GRAPH}, {{'xaxis.range[0]': '{lo}', 'xaxis.range[1]': '{hi}'}})")
            page.wait_for_function(f"document.querySelector('#exp-info').innerText !== {before!r}", timeout=30000)
            page.wait_for_timeout(1000)
            page.screenshot(path=f"{a.out}-{name}.png", full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
