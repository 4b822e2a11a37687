"""Screenshot pages in headless Chromium: `python scripts/shoot.py URL OUT.png [--size 1440x900] [--wait-for SEL]`."""

from __future__ import annotations

import argparse

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("out")
    p.add_argument("--size", default="1440x900")
    p.add_argument("--wait-for", default=".js-plotly-plot .main-svg")
    p.add_argument("--settle", type=float, default=1.5, help="seconds to wait after the selector appears")
    a = p.parse_args()
    w, h = (int(x) for x in a.size.split("x"))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": w, "height": h})
        page.goto(a.url)
        page.wait_for_selector(a.wait_for, timeout=20000)
        page.wait_for_timeout(a.settle * 1000)
        page.screenshot(path=a.out, full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
