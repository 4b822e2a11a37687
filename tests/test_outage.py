"""With sign-in on, a database outage is said in words: pages keep their numbers and recover by themselves."""

from __future__ import annotations

import pandas as pd
import pytest
import requests

from dashboard import accounts, db, migrate
from tests import dash_client
from tests.known import load_today

pytestmark = pytest.mark.browser
SECRET = "outage-secret-0123456789abcdef"


def test_signed_in_overview_says_the_database_is_away_and_recovers(own_pg, app_factory, browser):
    url = own_pg.get_uri("plant")
    engine = db.create(url)
    migrate.migrate(engine, want_timescale=False)
    load_today(engine, pd.Timestamp.now(tz="UTC"))
    accounts.add_user(engine, "anna", "anna-password", [], all_plants=True)
    token = accounts.add_token(engine, "hall", ["KA"], ["oee"])
    app = app_factory(url, AUTH="password", SECRET_KEY=SECRET, REFRESH_SECONDS="2")

    context = browser.new_context(bypass_csp=True, viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(app.url + "/login")
    page.fill("#username", "anna")
    page.fill("#password", "anna-password")
    page.click("button[type=submit]")
    page.wait_for_url(app.url + "/")
    page.goto(app.url + "/#range=today")
    page.wait_for_function("document.querySelector('#ov-kpi-oee') && document.querySelector('#ov-kpi-oee').innerText")
    assert page.locator("#ov-kpi-oee").inner_text() == "75.0 %"  # tests/known.py, by hand
    page.evaluate("window.__same_page = true")

    engine.dispose()
    own_pg.stop()
    page.wait_for_function(
        "(document.querySelector('#ov-alert') || {}).innerText?.includes('not answering')", timeout=30000
    )
    assert page.locator("#ov-kpi-oee").inner_text() == "75.0 %"  # the last numbers stay

    health = requests.get(app.url + "/healthz", timeout=10)
    assert health.status_code == 503 and health.json()["database"] == "unavailable"
    port = str(own_pg.get_uri("plant")).rsplit(":", 1)[1].split("/")[0]
    assert port not in health.text and "127.0.0.1" not in health.text and "plant" not in health.text

    # Someone the app has not seen recently cannot be checked: a 503 in words, never a 500.
    s = requests.Session()
    r = s.post(app.url + "/login", data={"username": "anna", "password": "x", "csrf": dash_client.form_token(app.url, s)})
    assert r.status_code == 503 and "database is not answering" in r.text
    r = requests.get(app.url + f"/wall?token={token}", allow_redirects=False)
    assert r.status_code == 503 and "database is not answering" in r.text

    own_pg.start()
    page.wait_for_function("!(document.querySelector('#ov-alert') || {}).innerText", timeout=30000)
    assert page.locator("#ov-kpi-oee").inner_text() == "75.0 %"
    assert page.evaluate("window.__same_page === true")  # recovered without a reload
    context.close()
