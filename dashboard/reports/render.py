"""The page itself printed to PDF by headless Chromium, once every chart on it is drawn: what the screen shows.

Run in a child process (`python -m dashboard.reports.render`) so that Chromium's cost and any hang stay bounded by a
timeout and never sit inside a gunicorn worker."""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")  # Debian's; Playwright's own browsers are not used
TIMEOUT_S = 60
# Drawn: every chart has plotly's data, no Dash callback is loading, and the page's subtitle has been written.
READY = """() => {
  const content = document.querySelector('#_pages_content');
  if (!content || !content.firstElementChild) return false;
  for (const g of content.querySelectorAll('.dash-graph')) {
    const p = g.querySelector('.js-plotly-plot'); if (!p || !p._fullLayout) return false;
  }
  if (document.querySelector('[data-dash-is-loading="true"]')) return false;
  const sub = content.querySelector('[id$="-subtitle"]');
  return !sub || sub.innerText.trim().length > 0;
}"""


PAGE_NUMBERS = " &nbsp;·&nbsp; page <span class='pageNumber'></span> of <span class='totalPages'></span>"


# A card (a KPI, a chart with its title) is never cut across two sheets.
KEEP_WHOLE = ".card, .js-plotly-plot, .ag-root-wrapper { break-inside: avoid; page-break-inside: avoid; }"


class RenderError(RuntimeError):
    """The page could not be printed; the message says why."""


def _band(lines: list[str], size: int, tail: str = "") -> str:
    """A header or footer line for Chromium's print: our text escaped, then Chromium's own page-number markup."""
    text = " &nbsp;·&nbsp; ".join(html.escape(x) for x in lines) + tail
    return f'<div style="font-size:{size}px;width:100%;padding:0 12mm;font-family:sans-serif">{text}</div>'


def print_pdf(
    url: str, header: list[str], footer: list[str], cookies: list[dict] | None = None, headers: dict | None = None
) -> bytes:
    """Open ``url`` in headless Chromium, wait until it is drawn, and print it (A4 landscape, with backgrounds)."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            # The app's CSP forbids evaluated scripts; waiting for the charts is the renderer's own code, not the page's.
            context = browser.new_context(
                viewport={"width": 1400, "height": 1000}, bypass_csp=True, extra_http_headers=headers or None
            )
            if cookies:
                context.add_cookies(cookies)
            page = context.new_page()
            page.goto(url, wait_until="networkidle", timeout=TIMEOUT_S * 1000)
            page.wait_for_function(READY, timeout=TIMEOUT_S * 1000)
            page.wait_for_load_state("networkidle")  # charts drawn by the last callback may fetch nothing more
            page.emulate_media(media="screen")  # the screen's look, not a print stylesheet's
            page.add_style_tag(content=KEEP_WHOLE)
            return page.pdf(
                format="A4",
                landscape=True,
                print_background=True,
                display_header_footer=True,
                header_template=_band(header, 10),
                footer_template=_band(footer, 8, PAGE_NUMBERS),
                margin={"top": "14mm", "bottom": "12mm", "left": "8mm", "right": "8mm"},
                scale=0.8,
            )
        except PlaywrightError as exc:
            raise RenderError(f"could not print {url}: {str(exc).splitlines()[0][:200]}") from None
        finally:
            browser.close()


def render(
    url: str, header: list[str], footer: list[str], cookies: list[dict] | None = None, headers: dict | None = None
) -> bytes:
    """``print_pdf`` in a child process, killed after TIMEOUT_S + 30 s."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.pdf"
        job = json.dumps({"url": url, "header": header, "footer": footer, "cookies": cookies or [], "headers": headers or {},
                          "out": str(out)})
        try:
            done = subprocess.run(
                [sys.executable, "-m", "dashboard.reports.render"],
                input=job.encode(),
                capture_output=True,
                timeout=TIMEOUT_S + 30,
            )
        except subprocess.TimeoutExpired:
            raise RenderError(f"printing {url} took longer than {TIMEOUT_S + 30} s") from None
        if done.returncode != 0 or not out.exists():
            why = done.stderr.decode(errors="replace").strip().splitlines()
            raise RenderError(why[-1][:300] if why else f"the renderer exited with {done.returncode}")
        return out.read_bytes()


def main() -> None:
    job = json.loads(sys.stdin.read())
    try:
        pdf = print_pdf(job["url"], job["header"], job["footer"], job["cookies"], job["headers"])
    except RenderError as exc:
        sys.exit(f"error: {exc}")
    Path(job["out"]).write_bytes(pdf)


if __name__ == "__main__":
    main()
