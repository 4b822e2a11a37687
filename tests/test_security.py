"""Every page runs under the app's Content-Security-Policy in a real Chromium: no violation, every chart drawn."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.known import load_known, load_stock

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/", "/oee", "/inventory", "/explorer", "/wall?rotate=3600"])
def test_pages_run_under_the_csp_without_violations(db_engine, app_factory, browser, path):
    load_known(db_engine)
    load_stock(db_engine, datetime.now(UTC))
    app = app_factory(db_engine.url.render_as_string(hide_password=False), REFRESH_SECONDS="60")
    context = browser.new_context(viewport={"width": 1440, "height": 900})  # the CSP is not bypassed here
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    response = page.goto(app.url + path + ("" if "?" in path else "#range=custom&from=2026-01-14&to=2026-01-15"))
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=20_000)
    page.wait_for_timeout(1500)  # late callbacks and their scripts
    context.close()
    assert problems == []
