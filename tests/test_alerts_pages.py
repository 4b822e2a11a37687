"""Alerts on screen, in Chromium: the bell, /alerts and the wall's band, each showing only the viewer's plants."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import requests
import sqlalchemy as sa
from flask import Flask

from dashboard import accounts, data, ingest
from dashboard.alerts import evaluate, rules
from dashboard.alerts.rules import Rule
from dashboard.config import Settings
from tests import dash_client
from tests.conftest import ROOT, AppProcess, known_database

SECRET = "test-secret-0123456789abcdef"
SHOTS = ROOT / ".data" / "screens"


@pytest.fixture(scope="module")
def known_db(pg_admin_url):
    """tests/known.py's Berlin and Kolkata with stock at both: paint at BER (40 L, reorder at 50) and steel at CCU
    (123 kg, reorder at 500) are below their reorder points, so one alert fires at each plant."""
    with known_database(pg_admin_url) as engine:
        at = datetime.now(UTC) - timedelta(hours=1)
        with engine.begin() as conn:
            ingest.upsert(
                conn,
                "stock_policy",
                pd.DataFrame(
                    [("CCU", "M1", 500, 200, 3)],
                    columns=["plant_id", "material_id", "reorder_point", "safety_stock", "lead_time_days"],
                ),
            )
            ingest.upsert(
                conn,
                "inventory_level",
                pd.DataFrame([("CCU", "M1", at, 123.0)], columns=["plant_id", "material_id", "ts", "on_hand"]),
            )
        accounts.add_user(engine, "anna", "anna-password", ["BER"])
        accounts.add_user(engine, "boss", "boss-password", [], all_plants=True)
        rules.add(
            engine,
            Rule(0, "Stock below reorder point", "stock_reorder", "plant", severity="warning", manual_resolve=True),
        )
        data.init_app(Flask("t"), engine, Settings(refresh_seconds=5))
        assert evaluate.cycle(engine, datetime.now(UTC), 60, "http://dash").events == 2
        yield engine


@pytest.fixture(scope="module")
def app(known_db):
    proc = AppProcess(
        known_db.url.render_as_string(hide_password=False),
        AUTH="password",
        SECRET_KEY=SECRET,
        ALERT_EVAL_SECONDS="0",
        WALL_REFRESH_SECONDS="5",
        REFRESH_SECONDS="5",
    )
    yield proc
    proc.stop()


def _sign_in(page, app, user: str) -> None:  # noqa: ANN001
    page.goto(app.url + "/alerts")
    page.fill("#username", user)
    page.fill("#password", f"{user}-password")
    page.click("button[type=submit]")
    page.wait_for_url(app.url + "/alerts")


def _bell(page) -> str:  # noqa: ANN001
    page.wait_for_function(
        "document.querySelector('#nav-bell-count') && document.querySelector('#nav-bell-count').innerText !== '0'",
        timeout=15_000,
    )
    return page.locator("#nav-bell-count").inner_text()


@pytest.mark.browser
def test_a_berlin_user_sees_and_acknowledges_berlin_alerts_only(app, known_db, page):
    answers: list[str] = []
    page.on(
        "response",
        lambda r: answers.append(r.text()) if "_dash-update-component" in r.url and r.status == 200 else None,
    )
    _sign_in(page, app, "anna")
    assert _bell(page) == "1"
    page.wait_for_selector(".al-row")
    rows = page.locator(".al-row")
    assert rows.count() == 1 and rows.first.get_attribute("data-plant") == "BER"
    assert "stock BER · M2" in rows.first.inner_text() and "40 on hand" in rows.first.inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.screenshot(path=str(SHOTS / "alerts-1920.png"))
    page.fill("#al-note", "Paint ordered, arrives Thursday")
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_selector("text=Acknowledged by anna.")
    page.wait_for_function("document.querySelector('.al-row').innerText.includes('Paint ordered')")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=str(SHOTS / "alerts-1440-acked.png"))
    with known_db.connect() as conn:
        row = conn.execute(sa.text("select acked_by, ack_note from alert_instance where plant_id = 'BER'")).one()
    assert tuple(row) == ("anna", "Paint ordered, arrives Thursday")
    page.goto(app.url + "/oee")  # the bell is on every page
    assert _bell(page) == "1"
    assert not [a for a in answers if "CCU" in a or "Kolkata" in a]


def test_a_crafted_request_for_kolkata_alerts_gets_none(app, known_db):
    s, _ = dash_client.sign_in(app.url, "anna", "anna-password")
    cb = dash_client.find(dash_client.server_callbacks(app.url, s), "al-table")
    values = {"al-plants": ["CCU"], "al-severity": list(rules.SEVERITIES), "al-state": ["firing", "pending"]}
    r = s.post(app.url + "/_dash-update-component", json=dash_client.body(cb, dash_client.by_id(cb, values)))
    assert r.status_code == 200 and "CCU" not in r.text.replace('"CCU"', "")  # echoed request aside
    assert "No alerts match" in r.text
    with known_db.connect() as conn:
        ccu = conn.execute(sa.text("select instance_id from alert_instance where plant_id = 'CCU'")).scalar_one()
    act = dash_client.find(dash_client.server_callbacks(app.url, s), "al-msg")
    trigger = {"type": "al-act", "action": "ack", "id": ccu}
    body = dash_client.body(act, [1, "mine now", "1h", 0])
    body["inputs"][0] = [{"id": trigger, "property": "n_clicks", "value": 1}]
    body["changedPropIds"] = [json.dumps(trigger, separators=(",", ":"), sort_keys=True) + ".n_clicks"]
    r = s.post(app.url + "/_dash-update-component", json=body)
    assert "There is no such alert." in r.text
    with known_db.connect() as conn:
        assert conn.execute(sa.text("select acked_by from alert_instance where plant_id = 'CCU'")).scalar() is None


@pytest.mark.browser
def test_everyone_plants_user_sees_both_and_resolves_by_hand(app, known_db, page):
    _sign_in(page, app, "boss")
    assert _bell(page) == "2"
    page.wait_for_selector(".al-row[data-plant='CCU']")
    page.locator(".al-row[data-plant='CCU']").get_by_role("button", name="Resolve").click()
    page.wait_for_selector("text=Resolved.")
    with known_db.connect() as conn:
        row = conn.execute(sa.text("select state, resolved_by from alert_instance where plant_id = 'CCU'")).one()
    assert tuple(row) == ("resolved", "boss")


@pytest.mark.browser
def test_the_wall_shows_its_plants_firing_alerts_in_a_red_band_and_cannot_act(app, known_db, browser):
    token = accounts.add_token(known_db, "lobby-ber", ["BER"], ["oee", "inventory"])
    context = browser.new_context(bypass_csp=True, viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.goto(app.url + f"/wall?token={token}&rotate=10")
    page.wait_for_selector("#wall-alerts .wall-alert", timeout=20_000)
    band = page.locator("#wall-alerts").inner_text()
    assert "1 alert firing" in band.replace("\n", " ").lower() or "1 ALERT FIRING" in band
    assert "Stock below reorder point · stock BER · M2 · 40 on hand · since " in band and "CET" in band
    assert "CCU" not in page.inner_text("body")
    color = page.evaluate("getComputedStyle(document.querySelector('#wall-alerts')).backgroundColor")
    assert color == "rgb(183, 28, 28)"
    page.wait_for_timeout(1500)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "wall-alert-band-1920.png"))
    assert page.request.get(app.url + "/alerts").status == 403  # a wall token opens the wall only
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    s = requests.Session()
    s.cookies.update(cookies)
    act = dash_client.find(dash_client.server_callbacks(app.url, s), "al-msg")
    with known_db.connect() as conn:
        ber = conn.execute(sa.text("select instance_id from alert_instance where plant_id = 'BER'")).scalar_one()
    body = dash_client.body(act, [1, "from the wall", "1h", 0])
    body["inputs"][0] = [{"id": {"type": "al-act", "action": "ack", "id": ber}, "property": "n_clicks", "value": 1}]
    r = s.post(app.url + "/_dash-update-component", json=body)
    assert r.status_code == 403 and "wall" in r.json()["error"]
    context.close()
