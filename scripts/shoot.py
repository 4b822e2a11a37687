"""Screenshot pages in headless Chromium: `python scripts/shoot.py URL OUT.png [--size 1440x900] [--wait-for SEL]`,
or every page and the states issue 18 looked at: `python scripts/shoot.py --all http://127.0.0.1:8050 DIR`."""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PLOT = ".js-plotly-plot .main-svg"
# (file name, path and fragment, what to wait for): the pages and the states a newcomer looked at.
PAGES = [
    ("overview", "/", "#ov-kpi-oee"),
    ("oee", "/oee", PLOT),
    ("oee-custom", "/oee#range=custom&from={d14}&to={d7}", PLOT),
    ("oee-30d", "/oee#range=30d", PLOT),
    ("inventory", "/inventory", "#inv-levels .main-svg"),
    ("explorer", "/explorer", PLOT),
    ("explorer-6h", "/explorer#span=6h", PLOT),
    ("explorer-old-minutes", "/explorer#span=7d&t0={old}T10:00:00Z&t1={old}T10:03:00Z", PLOT),
    ("wall-oee", "/wall?plant=DET&views=oee", PLOT),
    ("wall-inventory", "/wall?plant=DET&views=inventory", ".wall-table"),
]


def shoot(page: Page, url: str, out: str, wait_for: str, settle: float) -> None:
    page.goto("about:blank")  # a new fragment on the same path would not reload the page
    page.goto(url)
    page.wait_for_selector(wait_for, timeout=30000)
    page.wait_for_timeout(settle * 1000)
    page.screenshot(path=out, full_page=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("url", help="a page, or with --all the app's base URL")
    p.add_argument("out", help="a PNG file, or with --all a folder")
    p.add_argument("--all", action="store_true", help="shoot every page in PAGES into the folder OUT")
    p.add_argument("--size", default="1440x900")
    p.add_argument("--wait-for", default=PLOT)
    p.add_argument("--settle", type=float, default=1.5, help="seconds to wait after the selector appears")
    a = p.parse_args()
    w, h = (int(x) for x in a.size.split("x"))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": w, "height": h})
        if not a.all:
            shoot(page, a.url, a.out, a.wait_for, a.settle)
        else:
            import datetime as dt

            today = dt.date.today()
            days = {"d14": today - dt.timedelta(days=14), "d7": today - dt.timedelta(days=7)}
            days["old"] = today - dt.timedelta(days=3)
            Path(a.out).mkdir(parents=True, exist_ok=True)
            for name, path, wait_for in PAGES:
                out = str(Path(a.out) / f"{name}-{a.size}.png")
                shoot(page, a.url.rstrip("/") + path.format(**days), out, wait_for, max(a.settle, 3))
                print(out)
        browser.close()


if __name__ == "__main__":
    main()
