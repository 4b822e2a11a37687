"""The three analytic pages in a real Chromium, on hand-built data: numbers, filters, URLs, CSV, bad links."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from tests.conftest import AppProcess, known_database

pytestmark = pytest.mark.browser
DAYS = "#range=custom&from=2026-01-14&to=2026-01-15"


@pytest.fixture(scope="module")
def known_db(pg_admin_url):
    """One database and one app for the module: every test here only reads."""
    with known_database(pg_admin_url) as engine:
        yield engine


@pytest.fixture(scope="module")
def app(known_db):
    proc = AppProcess(known_db.url.render_as_string(hide_password=False), REFRESH_SECONDS="60")
    yield proc
    proc.stop()


def _text(page, selector: str) -> str:
    page.wait_for_function(
        f"document.querySelector({selector!r}) && document.querySelector({selector!r}).innerText.length > 0"
    )
    return page.locator(selector).inner_text()


def _chart(page, chart_id: str) -> list[dict]:
    """What plotly drew: name, x and y of every trace, once the chart has data."""
    page.wait_for_function(
        f"(() => {{ const g = document.querySelector('#{chart_id} .js-plotly-plot');"
        " return g && g._fullData && g._fullData.length > 0; })()",
        timeout=15000,
    )
    return page.evaluate(
        f"document.querySelector('#{chart_id} .js-plotly-plot')._fullData.map("
        "t => ({name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || [])}))"
    )


def test_overview_cards_show_the_known_answers(app, page):
    page.goto(app.url + "/" + DAYS)
    # By hand (tests/known.py): planned 9000 s, run 6750, ideal 5700, good ideal 5310; 2460 good units.
    assert _text(page, "#ov-kpi-oee") == "59.0 %"  # 5310 / 9000
    assert _text(page, "#ov-kpi-availability") == "75.0 %"  # 6750 / 9000
    assert _text(page, "#ov-kpi-performance") == "84.4 %"  # 5700 / 6750
    assert _text(page, "#ov-kpi-quality") == "93.2 %"  # 5310 / 5700
    assert _text(page, "#ov-kpi-good") == "2.5 k units"  # 900 + 780 + 780
    # Stock: $2,000 + $400; 1 of 2 below reorder; cover 2400 / (100 x 2.5 + 10 x 10) = 6.857 d = 6 d 20 h
    assert _text(page, "#ov-kpi-value") == "$2.4 k"
    assert _text(page, "#ov-kpi-reorder") == "1 of 2"
    assert _text(page, "#ov-kpi-cover") == "6 d 20 h"
    plants = {t["name"]: t["y"] for t in _chart(page, "ov-plants")}
    assert plants["Berlin"][0] == pytest.approx(0.5) and plants["Kolkata"][0] == pytest.approx(0.65)


def test_oee_filter_changes_charts_and_lives_in_the_url(app, page):
    page.goto(app.url + "/oee" + DAYS)
    oee = {t["name"]: t["y"] for t in _chart(page, "oee-groups")}["OEE"]
    assert oee == pytest.approx([0.5, 0.65])  # Berlin, Kolkata
    # Choose Kolkata in the plant filter, as a person would.
    page.locator("#flt-plants").click()
    page.locator(".dash-dropdown-search").fill("Kolkata")  # waits for the popover; typing before it opens is lost
    page.get_by_role("option", name="Kolkata (Asia/Kolkata)").click()
    page.wait_for_function("window.location.hash.includes('plant=CCU')")
    page.wait_for_function(
        "(() => { const g = document.querySelector('#oee-groups .js-plotly-plot');"
        " return g && g._fullData[0] && g._fullData[0].x.length === 1; })()"
    )
    assert {t["name"]: t["y"] for t in _chart(page, "oee-groups")}["OEE"] == pytest.approx([0.65])
    # The link restores the view: same filter, same numbers.
    url = page.url
    other = page.context.new_page()
    other.goto(url)
    assert {t["name"]: t["y"] for t in _chart(other, "oee-groups")}["OEE"] == pytest.approx([0.65])
    assert "Kolkata" in other.locator("#flt-plants").inner_text()
    other.close()
    # And the back button returns to both plants.
    page.go_back()
    page.wait_for_function("!window.location.hash.includes('plant=CCU')")
    page.wait_for_function(
        "(() => { const g = document.querySelector('#oee-groups .js-plotly-plot');"
        " return g && g._fullData[0] && g._fullData[0].x.length === 2; })()"
    )


def test_oee_drill_down_from_plant_to_lines(app, page):
    page.goto(app.url + "/oee" + DAYS)
    _chart(page, "oee-groups")
    page.evaluate("window.dash_clientside.set_props('oee-groups', {clickData: {points: [{customdata: 'CCU'}]}})")
    page.wait_for_function("window.location.hash.includes('group=line') && window.location.hash.includes('plant=CCU')")
    page.wait_for_function(
        "(() => { const g = document.querySelector('#oee-groups .js-plotly-plot');"
        " return g && g._fullData[0] && g._fullData[0].x[0] === 'Kolkata · L1'; })()"
    )


def test_oee_csv_matches_the_known_answer(app, page):
    page.goto(app.url + "/oee" + DAYS)
    _chart(page, "oee-groups")
    with page.expect_download() as dl:
        page.locator("button", has_text="CSV").nth(1).click()
    rows = list(csv.DictReader(io.StringIO(open(dl.value.path()).read())))  # noqa: SIM115
    assert [(r["Plant"], float(r["OEE (%)"]), float(r["Planned time (h)"])) for r in rows] == [
        ("BER", 50.0, 1.0),  # 1800 / 3600 and 3600 s planned
        ("CCU", 65.0, 1.5),  # 3510 / 5400 and 5400 s planned
    ]


def test_inventory_grid_and_csv(app, page):
    page.goto(app.url + "/inventory#range=7d")
    page.wait_for_selector("#inv-grid .ag-row")
    first = page.locator("#inv-grid .ag-row[row-index='0']").inner_text()
    assert "Paint" in first and "4.0" in first  # lowest cover first
    with page.expect_download() as dl:
        page.locator("button", has_text="CSV").first.click()
    rows = {r["Material"]: r for r in csv.DictReader(io.StringIO(open(dl.value.path()).read()))}  # noqa: SIM115
    assert float(rows["M1"]["Days of cover (d)"]) == 8.0 and float(rows["M1"]["Value ($)"]) == 2000.0
    assert float(rows["M2"]["Days of cover (d)"]) == 4.0 and rows["M2"]["Below reorder point"] == "True"


@pytest.mark.parametrize(
    ("fragment", "words"),
    [
        ("#plant=NOPE", "Unknown plant 'NOPE' ignored."),
        ("#range=custom&from=2026-02-10&to=2026-01-01", "The start date 2026-02-10 is after the end date 2026-01-01"),
        ("#range=custom&from=10000-01-01&to=10000-02-01", "is not a date"),
        ("#range=custom&from=2026-11-23T99:99&to=2026-11-24", "'2026-11-23T99:99' is not a date"),
        ("#group=" + quote("';drop table plant;--"), "Unknown grouping"),
        ("#plant=" + "A" * 5000, "Unknown plant 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' ignored."),
        ("?range=fortnight", "Unknown range 'fortnight'"),
    ],
)
def test_bad_links_show_the_default_view_with_a_notice(app, page, known_db, fragment, words):
    page.goto(app.url + "/oee" + fragment)
    notice = _text(page, "#flt-notice")
    assert words in notice
    # The default view (last 7 days) has no production in this dataset: the chart says so in words.
    page.wait_for_selector("#oee-groups .annotation-text", timeout=15000)
    assert page.locator("#oee-groups .annotation-text").first.text_content() == (
        "No production recorded for all plants in this range"
    )
    with known_db.connect() as conn:
        assert conn.execute(sa.text("select count(*) from plant")).scalar() == 2


def test_empty_state_names_the_selection(app, page):
    page.goto(app.url + "/oee#range=7d&line=CCU-L1&group=machine")
    page.wait_for_selector("#oee-trend .annotation-text", timeout=15000)
    assert page.locator("#oee-trend .annotation-text").first.text_content() == (
        "No production recorded for L1 at Kolkata in this range"
    )
