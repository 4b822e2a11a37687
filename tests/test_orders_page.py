"""The orders page in a real Chromium on the hand-worked orders (tests/orders_known.py): cards and the stage chart
carry the known numbers, the trace shows O1's stages and machines, and a Stuttgart user sees nothing of Detroit."""

from __future__ import annotations

import json
import re

import pytest

from dashboard import accounts, viewstate
from tests import dash_client
from tests import orders_known as K
from tests.conftest import AppProcess, drop_database, new_database

pytestmark = pytest.mark.browser
DAYS = "#range=custom&from=2026-03-29&to=2026-03-31"
SECRET = "test-secret-0123456789abcdef"
DETROIT = {"DET", "Detroit", "America/Detroit", "Ford", "FG-900", "O6", "O7"}  # what maria must never receive


@pytest.fixture(scope="module")
def app(pg_admin_url):
    from dashboard import db, migrate

    url = new_database(pg_admin_url)
    engine = db.create(url)
    migrate.migrate(engine, want_timescale=False)
    K.load_orders(engine)
    accounts.add_user(engine, "maria", "maria-password", ["STR"])
    accounts.add_user(engine, "boss", "boss-password", [], all_plants=True)
    proc = AppProcess(
        url,
        AUTH="password",
        SECRET_KEY=SECRET,
        REFRESH_SECONDS="60",
        OTIF_TOLERANCE_PCT="2",
        ORDER_AT_RISK_DAYS="2",  # O7, promised two days after Detroit's window ends, is at risk
    )
    yield proc
    proc.stop()
    engine.dispose()
    drop_database(pg_admin_url, url)


def _sign_in(page, app, who: str) -> None:  # noqa: ANN001
    page.goto(app.url + "/login")
    page.fill("#username", who)
    page.fill("#password", f"{who}-password")
    page.click("button[type=submit]")
    page.wait_for_url(app.url + "/")


def _open(page, app) -> None:  # noqa: ANN001
    page.goto(app.url + "/orders" + DAYS)
    page.wait_for_function(
        "document.querySelector('#ord-kpi-otif') && document.querySelector('#ord-kpi-otif').innerText"
    )
    page.wait_for_function("document.querySelector('#ord-stages .js-plotly-plot .bars')")


def test_cards_and_stage_chart_carry_the_known_answers(app, page):
    _sign_in(page, app, "boss")
    _open(page, app)
    # OTIF: O2 and O6 of O1, O2, O3, O6 (O5 pending) = 50.0 %. MTO (95400 + 32400 + 108000) / 3 = 78600 s;
    # MTS 100800 s. Late: O5. WIP: O4, O5, O7 (as of each plant's window end).
    assert page.locator("#ord-kpi-otif").inner_text() == "50.0 %"
    assert "2 of 4 order lines; 1 pending" in page.locator("#ord-cards").inner_text()
    assert page.locator("#ord-kpi-lead-mto").inner_text() == "21 h 50 min"
    assert page.locator("#ord-kpi-lead-mts").inner_text() == "1 d 4 h"
    assert page.locator("#ord-kpi-late").inner_text() == "1"
    assert page.locator("#ord-kpi-wip").inner_text() == "3"
    bars = page.evaluate(
        """() => document.querySelector('#ord-stages .js-plotly-plot')._fullData.map(
               t => ({name: t.name, y: Array.from(t.y), x: Array.from(t.x).map(v => Math.round(v * 1e4) / 1e4)}))"""
    )
    assert [b["y"] for b in bars][0] == ["Stuttgart Machining (3 orders)", "Detroit Assembly (1 order)"]
    # Mean hours per stage, Stuttgart then Detroit: 7200/6600/11400/51000 s and 7200/7200/14400/79200 s.
    assert [b["x"] for b in bars] == [[2.0, 2.0], [1.8333, 2.0], [3.1667, 4.0], [14.1667, 22.0]]
    assert [b["name"].split(" (")[0] for b in bars] == ["Waiting", "Queue", "Production", "Dispatch"]
    assert "Detroit" in page.locator("#ord-otif-trend").inner_text()


def test_the_trace_shows_o1s_stages_and_machines(app, page):
    _sign_in(page, app, "boss")
    _open(page, app)
    page.click("#ord-order")  # Dash 4's dropdown opens a popover with its search box focused
    page.wait_for_timeout(300)
    page.keyboard.type("O1", delay=100)
    option = page.locator("[role=option]", has_text="O1 · FG-100 · Bosch")
    option.wait_for(timeout=20_000)
    option.click()
    page.wait_for_function(
        "document.querySelector('#ord-trace .js-plotly-plot') && "
        "(document.querySelector('#ord-trace .js-plotly-plot').data || []).length > 1"
    )
    rows = page.evaluate(
        """() => document.querySelector('#ord-trace .js-plotly-plot')._fullData.map(
               t => ({y: Array.from(t.y), ms: Array.from(t.x), text: Array.from(t.text)}))"""
    )
    assert rows[0]["y"] == ["Waiting", "Queue", "Production", "Dispatch"]
    # Labels give calendar time; bars span the plant's wall clock, so the queue (00:30 CET to 03:30 CEST) is drawn
    # 3 h long on the Europe/Berlin axis and labelled 2 h.
    assert rows[0]["text"] == ["3 h 30 min", "2 h", "3 h 30 min", "17 h 30 min"]
    assert rows[0]["ms"] == [12_600_000, 10_800_000, 12_600_000, 63_000_000]
    assert rows[1]["y"] == ["Machine STR-L1-M1", "Machine STR-L1-M2"]
    info = page.locator("#ord-trace-info").inner_text()
    assert "promised 2026-03-29" in info and "times in Europe/Berlin" in info and "shipped 100 units" in info


def test_a_stuttgart_user_sees_no_detroit_order_in_any_answer(app, page):
    answers: list[dict] = []

    def keep(response) -> None:  # noqa: ANN001
        if "_dash-update-component" in response.url and response.status == 200:
            answers.append(response.json())

    page.on("response", keep)
    _sign_in(page, app, "maria")
    _open(page, app)
    assert page.locator("#ord-kpi-otif").inner_text() == "33.3 %"  # Stuttgart alone: O2 of O1, O2, O3
    page.click("#ord-order")
    page.wait_for_timeout(300)
    page.keyboard.type("Ford", delay=100)  # Detroit's customer: no option may appear
    page.wait_for_timeout(1500)
    page.goto(app.url + "/" + DAYS)
    page.wait_for_function("document.querySelector('#ov-kpi-otif') && document.querySelector('#ov-kpi-otif').innerText")
    assert len(answers) > 5
    # Whole words: the nav's "Download PDF" link carries "%2Forders", which holds the letters of "Ford".
    leaked = {w for a in answers for s in dash_client.strings(a) for w in DETROIT if re.search(rf"\b{w}\b", s)}
    assert leaked == set()


def _callback(app, session, prefix: str, values: dict):  # noqa: ANN001, ANN202
    deps = dash_client.server_callbacks(app.url, session)
    cb = dash_client.find(deps, prefix)
    return session.post(app.url + "/_dash-update-component", json=dash_client.body(cb, dash_client.by_id(cb, values)))


def _download(app, session, chart: str, view: dict, order: str | None = None) -> str:  # noqa: ANN001
    button = {"chart": chart, "type": "ord-csv"}
    body = {
        "output": "ord-download.data",
        "outputs": {"id": "ord-download", "property": "data"},
        "inputs": [[{"id": button, "property": "n_clicks", "value": 1}]],
        "state": [
            {"id": "view", "property": "data", "value": view},
            {"id": "ord-order", "property": "value", "value": order},
        ],
        "changedPropIds": [json.dumps(button, separators=(",", ":")) + ".n_clicks"],
    }
    r = session.post(app.url + "/_dash-update-component", json=body)
    assert r.status_code == 200, r.text
    return r.json()["response"]["ord-download"]["data"]["content"]


def test_crafted_callbacks_naming_detroit_get_nothing(app):
    from datetime import date

    maria, _ = dash_client.sign_in(app.url, "maria", "maria-password")
    boss, _ = dash_client.sign_in(app.url, "boss", "boss-password")
    view = viewstate.to_store(viewstate.View("custom", date(2026, 3, 29), date(2026, 3, 31), plants=("DET",)))
    found = lambda r: {w for s in dash_client.strings(r.json()) for w in DETROIT if w in s}  # noqa: E731
    assert found(_callback(app, boss, "ord-cards", {"view": view, "tick": 0}))  # the request itself is sound
    r = _callback(app, maria, "ord-cards", {"view": view, "tick": 0})
    assert r.status_code == 200 and found(r) == set()  # answered, with nothing of Detroit
    for who, shown in ((boss, True), (maria, False)):
        r = _callback(app, who, "ord-trace", {"ord-order": "O6", "tick": 0})
        assert bool(found(r) - {"O6"}) is shown  # the asker's own words come back; nothing of the order does
        assert ("No order 'O6' among the plants you can see" in json.dumps(r.json())) is not shown
        for chart in ("ord-late", "ord-distribution", "ord-otif-trend", "ord-stages"):
            csv = _download(app, who, chart, view)
            assert any(w in csv for w in ("DET", "O6", "O7")) is shown, (chart, csv)
        csv = _download(app, who, "ord-trace", view, order="O6")
        assert ("O6" in csv) is shown
