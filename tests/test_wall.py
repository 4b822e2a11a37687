"""Wall screens in a real Chromium: kiosk numbers, rotation, bad URLs, and a database that goes away and comes back."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import db, ingest, migrate, wall
from tests.known import load_today

pytestmark = pytest.mark.browser


def _value(page, selector: str) -> str:
    page.wait_for_function(f"document.querySelector({selector!r}) && document.querySelector({selector!r}).innerText")
    return page.locator(selector).inner_text()


def test_wall_survives_the_database_going_away_and_coming_back(own_pg, app_factory, page):
    url = own_pg.get_uri("plant")
    engine = db.create(url)
    migrate.migrate(engine, want_timescale=False)
    next_minute = load_today(engine, pd.Timestamp.now(tz="UTC"))
    app = app_factory(url, WALL_REFRESH_SECONDS="5", REFRESH_SECONDS="5")
    page.goto(app.url + "/wall?plant=KA&views=oee")
    page.evaluate("window.__same_page = true")
    assert _value(page, "#wall-num-oee") == "75.0 %"  # 450 / 600, worked out in tests/known.py
    assert page.locator("#wall-stale").is_hidden()

    engine.dispose()
    own_pg.stop()
    page.wait_for_selector("#wall-stale", state="visible", timeout=45000)
    assert "Data is stale" in page.locator("#wall-stale").inner_text()
    assert page.locator("#wall-num-oee").inner_text() == "75.0 %"  # the last data stays on screen
    assert page.evaluate("document.querySelector('#wall-graph .js-plotly-plot')._fullData[0].y.length") > 0

    own_pg.start()
    engine = db.create(url)
    extra = pd.DataFrame({"machine_id": ["KA-A"], "ts": [next_minute], "planned_s": [60.0], "run_s": [60.0],
                          "total_count": [30], "good_count": [30], "startup_rejects": [0], "ideal_cycle_s": [2.0]})  # fmt: skip
    with engine.begin() as conn:
        ingest.upsert(conn, "production", extra)
    # (450 + 60) / 660 = 77.3 %, with no reload and no one touching the screen.
    page.wait_for_function("document.querySelector('#wall-num-oee').innerText === '77.3 %'", timeout=45000)
    page.wait_for_selector("#wall-stale", state="hidden", timeout=15000)
    assert page.evaluate("window.__same_page === true")
    engine.dispose()


def test_wall_rotates_and_reports_bad_parameters(known_wall, page):
    app = known_wall
    page.goto(app.url + "/wall?plant=KA,NOPE&views=oee,inventory,weather&rotate=10&refresh=1")
    notice = _value(page, "#wall-notice")
    assert "Unknown plant 'NOPE' ignored." in notice
    assert "Unknown view 'weather' ignored." in notice
    assert "refresh=1 is below the minimum; using 5 s." in notice
    assert _value(page, "#wall-view") == "OEE today"
    page.wait_for_function("document.querySelector('#wall-view').innerText === 'Stock at risk'", timeout=20000)
    assert page.locator("#nav-bar").is_hidden() and page.locator("#flt-bar").is_hidden()


@pytest.fixture
def known_wall(db_engine, app_factory):
    load_today(db_engine, pd.Timestamp.now(tz="UTC"))
    return app_factory(db_engine.url.render_as_string(hide_password=False), WALL_REFRESH_SECONDS="5")


@pytest.mark.parametrize(
    ("params", "slides", "rotate", "refresh", "notice"),
    [
        ({}, [("oee", "A"), ("inventory", "A"), ("oee", "B"), ("inventory", "B")], 30, 15, None),
        ({"plant": "B", "views": "inventory"}, [("inventory", "B")], 30, 15, None),
        ({"rotate": "abc"}, None, 30, 15, "rotate='abc' is not a number"),
        ({"rotate": "3", "refresh": "99999"}, None, 10, 3600, "rotate=3 is below the minimum"),
        ({"views": "x" * 500}, None, 30, 15, "Unknown view"),
    ],
)
def test_wall_parameters(params, slides, rotate, refresh, notice):
    plants = pd.DataFrame({"plant_id": ["A", "B"], "tz": ["Etc/UTC", "Asia/Kolkata"]})
    cfg = wall.parse(params, plants, 15)
    if slides is not None:
        assert [(v, p) for v, p, _ in cfg.slides] == slides
    assert (cfg.rotate_s, cfg.refresh_s) == (rotate, refresh)
    assert (notice is None and not cfg.notices) or any(notice in n for n in cfg.notices)


def test_database_load_does_not_grow_with_screens(db_engine, app_factory, browser):
    """Ten screens showing the same slide ask the database once per refresh interval, as one screen does."""
    load_today(db_engine, pd.Timestamp.now(tz="UTC"))
    app = app_factory(db_engine.url.render_as_string(hide_password=False), WALL_REFRESH_SECONDS="5")

    def transactions() -> int:
        with db_engine.connect() as conn:
            return conn.execute(
                sa.text("select xact_commit + xact_rollback from pg_stat_database where datname = current_database()")
            ).scalar_one()

    def run(screens: int) -> int:
        context = browser.new_context(bypass_csp=True, viewport={"width": 960, "height": 540})
        pages = [context.new_page() for _ in range(screens)]
        for p in pages:
            p.goto(app.url + "/wall?plant=KA&views=oee&rotate=3600")
        for p in pages:
            p.wait_for_function(
                "document.querySelector('#wall-num-oee') && document.querySelector('#wall-num-oee').innerText"
            )
        before = transactions()
        pages[0].wait_for_timeout(15000)  # three refresh intervals
        used = transactions() - before
        context.close()
        return used

    one, ten = run(1), run(10)
    assert ten <= one + 6, (one, ten)  # the rollup refresher and our own counting query also commit
