"""The explorer on a hand-made 1 Hz series: the window asked for and nothing else, limits and gaps in every regime,
and two app processes answering the same zoom identically."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import requests
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from dashboard import explorer, ingest, queries, rollups
from tests import dash_client
from tests.known import load_known

T0 = datetime(2026, 1, 14, 6, tzinfo=UTC)
HOURS = 6
STOP = (T0 + timedelta(hours=2), T0 + timedelta(hours=2, minutes=20))  # the machine stops: no readings
SPIKE = T0 + timedelta(hours=4, minutes=7, seconds=13)  # one reading above the 80 °C limit


@pytest.fixture
def sensor_db(db_engine):
    load_known(db_engine)  # plants, lines, machines B1, K1, K2
    ts = pd.date_range(T0, periods=HOURS * 3600, freq="s")
    ts = ts[(ts < STOP[0]) | (ts >= STOP[1])]
    value = 50 + 10 * np.sin(np.arange(len(ts)) / 900.0)
    value[ts == SPIKE] = 95.0
    with db_engine.begin() as conn:
        ingest.upsert(
            conn,
            "sensor",
            pd.DataFrame(
                [(1, "B1", "temperature", "°C", 15.0, 80.0)],
                columns=["sensor_id", "machine_id", "kind", "unit", "lo_limit", "hi_limit"],
            ),
        )
        ingest.upsert(conn, "telemetry", pd.DataFrame({"sensor_id": 1, "ts": ts, "value": value}))
    rollups.refresh(db_engine)
    return db_engine


def _sensor(engine) -> dict:
    return queries.sensors(engine).iloc[0].to_dict()


@pytest.mark.parametrize(
    ("start", "minutes", "width", "regime"),
    [
        (T0 + timedelta(hours=4), 10, 600, "raw"),  # 600 readings for 600 px
        (T0 + timedelta(hours=3), 30, 600, "MinMaxLTTB of 1,800 readings"),
        (T0 + timedelta(hours=3), 120, 600, "mean, min–max per 12 s"),  # per pixel column, from raw rows
        (T0, HOURS * 60, 300, "mean, min–max per 1.2 min"),  # 20,400 readings, more than 20 a pixel
    ],
)
def test_zoom_returns_the_window_in_the_right_regime(sensor_db, start, minutes, width, regime):
    end = start + timedelta(minutes=minutes)
    s = explorer.series(sensor_db, _sensor(sensor_db), start, end, width)
    assert s.label == regime
    drawn = s.x[~np.isnan(s.y)]
    assert len(s.x) <= 2 * width + 10  # a few NaN breaks on top of the budget
    lo_ms, hi_ms = start.timestamp() * 1000, end.timestamp() * 1000
    assert drawn.min() >= lo_ms - 60_000 and drawn.max() < hi_ms  # envelope buckets start at most a bucket early


@pytest.mark.parametrize("minutes,width", [(HOURS * 60, 300), (HOURS * 60, 2000), (180, 600)])
def test_the_spike_beyond_the_limit_is_always_shown(sensor_db, minutes, width):
    s = explorer.series(
        sensor_db,
        _sensor(sensor_db),
        T0 + timedelta(hours=HOURS) - timedelta(minutes=minutes),
        T0 + timedelta(hours=HOURS),
        width,
    )
    assert s.alarm_y.tolist() == [95.0]


@pytest.mark.parametrize("width", [300, 2000])
def test_the_stop_is_a_gap(sensor_db, width):
    s = explorer.series(sensor_db, _sensor(sensor_db), T0, T0 + timedelta(hours=HOURS), width)
    x = s.x[np.isnan(s.y)]
    stop_ms = [STOP[0].timestamp() * 1000, STOP[1].timestamp() * 1000]
    assert any(stop_ms[0] - 120_000 <= v <= stop_ms[1] for v in x)


@pytest.mark.browser
def test_two_app_processes_answer_the_same_zoom_identically(sensor_db, app_factory, browser):
    url = sensor_db.url.render_as_string(hide_password=False)
    first, second = app_factory(url), app_factory(url)
    page = browser.new_page(bypass_csp=True, viewport={"width": 1400, "height": 800})
    bodies: list[str] = []
    page.on(
        "request",
        lambda r: (
            bodies.append(r.post_data)
            if "_dash-update-component" in r.url and r.post_data and "relayoutData" in r.post_data
            else None
        ),
    )
    page.goto(first.url + "/explorer")
    page.wait_for_selector("#exp-graph .main-svg")
    page.get_by_text("1 year").click()  # the series lies in January; the default 7 days would not reach it
    page.wait_for_function("document.querySelector('#exp-info').innerText.includes('20,400 readings')", timeout=20000)
    a = (T0 + timedelta(hours=4)).strftime("%Y-%m-%d %H:%M:%S")
    b = (T0 + timedelta(hours=4, minutes=30)).strftime("%Y-%m-%d %H:%M:%S")
    # The 1-year figure itself must be drawn first: a zoom on the figure it replaces would be dropped with it.
    page.wait_for_function(
        "(() => { const g = document.querySelector('#exp-graph .js-plotly-plot');"
        " return g && g._fullLayout && String(g._fullLayout.uirevision).startsWith('1y'); })()"
    )
    # Zoom to half an hour inside the series, in the plant's time (Berlin), as a drag on the chart would.
    local = lambda t: pd.Timestamp(t).tz_convert("Europe/Berlin").strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    page.wait_for_load_state("networkidle")  # the range click's chain of callbacks has settled
    zoom = (
        f"Plotly.relayout(document.querySelector('#exp-graph .js-plotly-plot'), "
        f"{{'xaxis.range[0]': '{local(a + 'Z')}', 'xaxis.range[1]': '{local(b + 'Z')}'}})"
    )
    for attempt in range(
        3
    ):  # a relayout that lands while dcc.Graph re-binds its events is lost; a person would drag again
        page.evaluate(zoom)
        try:
            page.wait_for_function(
                "document.querySelector('#exp-info').innerText.includes('1,800 readings')", timeout=8000
            )
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    page.close()
    body = bodies[-1].encode()

    def ask(base: str) -> dict:
        req = urllib.request.Request(
            base + "/_dash-update-component", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    one, two = ask(first.url), ask(second.url)
    assert one == two
    assert "1,800 readings" in json.dumps(one)


@pytest.mark.parametrize(
    ("first", "regular"),
    [("2026-03-28 12:00", True), ("2026-03-29 00:00", False)],  # Berlin moves its clocks at 01:00 UTC on the 29th
)
def test_envelopes_send_one_grid_unless_the_wall_clock_jumps(first, regular):
    from dashboard import figures_explorer

    x = pd.date_range(first, periods=12, freq="10min", tz="UTC").as_unit("ms").asi8
    ones = np.ones(len(x))
    s = explorer.Series(x, ones, ones - 1, ones + 1, x[:0], ones[:0], "mean, min–max per 10 min", 1200)
    values = figures_explorer.trace_values(s, "Europe/Berlin")
    if regular:
        assert [("x" in v, v.get("dx")) for v in values[:3]] == [(False, 600_000.0)] * 3
        assert (
            values[0]["x0"]
            == pd.Timestamp(first).tz_localize("UTC").tz_convert("Europe/Berlin").tz_localize(None).value / 1e6
        )
    else:
        assert all("x" in v and len(v["x"]) == 12 for v in values[:3])


def test_a_request_for_many_sensors_draws_one_machines_few_and_says_so(sensor_db, app_factory):
    """A crafted request naming 123 sensors (12 of them real, on two machines) reads one machine's, at most 8."""
    with sensor_db.begin() as conn:
        rows = [(i, "B1", f"t{i}", "°C", None, None) for i in range(2, 11)] + [(11, "K1", "p", "bar", None, None)]
        ingest.upsert(
            conn, "sensor", pd.DataFrame(rows, columns=["sensor_id", "machine_id", "kind", "unit", "lo_limit", "hi_limit"])
        )
    app = app_factory(sensor_db.url.render_as_string(hide_password=False))
    s = requests.Session()
    draw = next(c for c in dash_client.server_callbacks(app.url, s) if c["output"].startswith("..exp-graph.figure..."))
    values = dash_client.by_id(draw, {"exp-sensors": list(range(1, 124)), "exp-range": "7d", "exp-width": 1200})
    r = s.post(app.url + "/_dash-update-component", json=dash_client.body(draw, values), timeout=60)
    assert r.status_code == 200
    answer = r.json()["response"]
    axes = {t.get("yaxis", "y") for t in answer["exp-graph"]["figure"]["data"]}
    assert len(axes) == 8  # sensors 1-8 of B1: not K1's, not the 113 that do not exist
    assert "up to 8 sensors of one machine; 115 left out" in answer["exp-info"]["children"]
