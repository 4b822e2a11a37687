"""The explorer on a hand-made 1 Hz series: the window asked for and nothing else, limits and gaps in every regime,
and two app processes answering the same zoom identically."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from dashboard import explorer, ingest, queries, rollups
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
        (T0 + timedelta(hours=4), 10, 600, "every reading"),  # 600 readings for 600 px
        (T0 + timedelta(hours=3), 30, 600, "reduced, peaks kept"),  # 1,800 readings, MinMaxLTTB
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
    page.wait_for_function(
        "(document.querySelector('#exp-info') || {}).innerText?.includes('20,400 readings')", timeout=20000
    )
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


SPARSE_T0 = datetime(2026, 1, 10, 8, tzinfo=UTC)


@pytest.fixture
def sparse_db(db_engine):
    """The demo's shape: readings every 5 min for two hours, then every second for half an hour."""
    load_known(db_engine)
    old = pd.date_range(SPARSE_T0, periods=24, freq="5min")
    new = pd.date_range(SPARSE_T0 + timedelta(hours=2), periods=1800, freq="s")
    ts = old.append(new)
    with db_engine.begin() as conn:
        ingest.upsert(
            conn,
            "sensor",
            pd.DataFrame(
                [(1, "B1", "temperature", "°C", None, 80.0)],
                columns=["sensor_id", "machine_id", "kind", "unit", "lo_limit", "hi_limit"],
            ),
        )
        ingest.upsert(conn, "telemetry", pd.DataFrame({"sensor_id": 1, "ts": ts, "value": np.arange(len(ts)) % 7}))
    rollups.refresh(db_engine)
    return db_engine


def test_a_minute_between_sparse_readings_draws_the_nearest_ones(sparse_db):
    """Zoomed to 10:01-10:03 where readings are 5 min apart: it was '0 points drawn for 0 readings'."""
    a = SPARSE_T0 + timedelta(minutes=31)
    s = explorer.series(sparse_db, _sensor(sparse_db), a, a + timedelta(minutes=2), 1200)
    ms = lambda t: int(t.timestamp() * 1000)  # noqa: E731
    assert s.x.tolist() == [ms(SPARSE_T0 + timedelta(minutes=30)), ms(SPARSE_T0 + timedelta(minutes=35))]
    assert s.points_in_window == 0 and s.label == "nearest readings"
    assert s.note == "readings here are 5 min apart, so the line joins the nearest ones on either side"
    # Far from any reading the readout says so instead of drawing nothing silently.
    far = SPARSE_T0 - timedelta(days=2)
    s = explorer.series(sparse_db, _sensor(sparse_db), far, far + timedelta(minutes=2), 1200)
    assert len(s.x) == 0 and "no readings within 30 min" in s.note


def test_the_change_from_5_minute_to_1_hz_readings_is_marked(sparse_db):
    from dashboard import figures_explorer

    sensor = _sensor(sparse_db)
    window = (SPARSE_T0, SPARSE_T0 + timedelta(hours=2, minutes=30))
    s = explorer.series(sparse_db, sensor, *window, 1200)
    switch = int((SPARSE_T0 + timedelta(hours=2)).timestamp() * 1000)
    assert len(s.changes) == 1
    t, before, after = s.changes[0]
    assert t == switch and (before, after) == (300.0, 1.0)  # at the first 1 Hz reading
    shapes, notes = figures_explorer.decorations([sensor], [s], "UTC", window)
    dotted = [sh for sh in shapes if sh["line"]["dash"] == "dot"]
    assert len(dotted) == 1 and dotted[0]["yref"] == "paper"
    assert any("readings every 5 min before this line, every second after" in n["text"] for n in notes)
    # Inside the 1 Hz part there is no change to mark.
    late = explorer.series(sparse_db, sensor, SPARSE_T0 + timedelta(hours=2, minutes=5), window[1], 1200)
    assert late.changes == ()


def test_csv_of_the_explorer_is_what_is_drawn_with_units(sparse_db):
    from dashboard import figures_explorer

    sensor = _sensor(sparse_db)
    s = explorer.series(sparse_db, sensor, SPARSE_T0, SPARSE_T0 + timedelta(minutes=30), 1200)
    frame = figures_explorer.drawn_frame([sensor], [s], "Europe/Berlin")
    assert list(frame.columns) == ["Time (Europe/Berlin)", "temperature (°C)"]
    assert len(frame) == int(np.count_nonzero(~np.isnan(s.y))) == 6
    assert frame.iloc[0, 0] == "2026-01-10 09:00:00.000"  # 08:00 UTC on Berlin's wall clock


@pytest.mark.parametrize(
    ("fragment", "sensors", "span", "window"),
    [
        ("#sensor=1,2&span=6h&t0=2026-11-24T10:00:00Z&t1=2026-11-24T10:03:00Z", (1, 2), "6h", True),
        ("#sensor=1;drop table&span=6h", (), "6h", False),  # junk is left out, not obeyed
        ("#t0=2026-11-24T10:03:00Z&t1=2026-11-24T10:00:00Z", (), None, False),  # inverted: no zoom
        ("#t0=yesterday&t1=now", (), None, False),
    ],
)
def test_explorer_links_parse_what_they_can(fragment, sensors, span, window):
    from dashboard import explorer_url

    link = explorer_url.parse(fragment)
    assert link.sensors == sensors and link.span == span and (link.window is not None) == window


def test_explorer_link_round_trip_keeps_other_pages_keys():
    from dashboard import explorer_url

    a, b = pd.Timestamp("2026-11-24 10:00:00.250", tz="UTC"), pd.Timestamp("2026-11-24 10:03", tz="UTC")
    frag = explorer_url.fragment("#range=30d&plant=DET&t0=old", [3, 1], "24h", (a, b))
    assert frag == "#range=30d&plant=DET&sensor=3,1&span=24h&t0=2026-11-24T10:00:00.250Z&t1=2026-11-24T10:03:00Z"
    link = explorer_url.parse(frag)
    assert link.window == (a.to_pydatetime(), b.to_pydatetime()) and link.sensors == (3, 1)


@pytest.mark.browser
def test_the_zoom_lives_in_the_url_and_the_csv_is_what_is_drawn(sensor_db, app_factory, browser):
    """A link with a zoom opens on that window; zooming writes the new one back; CSV and a chart filling the page."""
    app = app_factory(sensor_db.url.render_as_string(hide_password=False))
    page = browser.new_page(bypass_csp=True, viewport={"width": 1920, "height": 1080})
    iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    a, b = T0 + timedelta(hours=4), T0 + timedelta(hours=4, minutes=30)
    page.goto(f"{app.url}/explorer#sensor=1&span=1y&t0={iso(a)}&t1={iso(b)}")
    info = "(document.querySelector('#exp-info') || {innerText: ''}).innerText"
    page.wait_for_function(f"{info}.includes('1,800 readings in view')", timeout=30000)
    graph = "document.querySelector('#exp-graph .js-plotly-plot')"
    shown = page.evaluate(f"{graph}._fullLayout.xaxis.range")
    berlin = lambda t: pd.Timestamp(t).tz_convert("Europe/Berlin").tz_localize(None)  # noqa: E731
    assert [pd.Timestamp(v) for v in shown] == [berlin(a), berlin(b)]
    assert page.evaluate("document.querySelector('input[value=\"1y\"]').checked")
    assert f"t0={iso(a)}" in page.evaluate("location.hash")
    # The chart uses the page's height (it used about 60 % of it).
    box = page.locator("#exp-graph").bounding_box()
    assert box["y"] + box["height"] > 1080 - 40, box
    # A zoom goes into the URL.
    c, d = T0 + timedelta(hours=4, minutes=5), T0 + timedelta(hours=4, minutes=15)
    local = lambda t: berlin(t).strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    zoom = f"Plotly.relayout({graph}, {{'xaxis.range[0]': '{local(c)}', 'xaxis.range[1]': '{local(d)}'}})"
    for attempt in range(3):
        page.evaluate(zoom)
        try:
            page.wait_for_function(f"location.hash.includes('t0={iso(c)}')", timeout=8000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    assert f"t1={iso(d)}" in page.evaluate("location.hash")
    page.wait_for_function(f"{info}.includes('600 readings in view, all drawn')", timeout=30000)
    with page.expect_download() as dl:
        page.locator("#exp-csv").click()
    lines = open(dl.value.path(), encoding="utf-8").read().splitlines()  # noqa: SIM115
    assert lines[0] == "Time (Europe/Berlin),temperature (°C)"
    assert len(lines) == 1 + 600 and lines[1].startswith(berlin(c).strftime("%Y-%m-%d %H:%M:%S"))
    page.close()


def test_a_long_stop_is_shaded_and_named(sensor_db):
    """The 20-minute stop in six hours is a shaded band that says 'no readings', from the last reading before it
    to the first after it; a zoom inside the running part has none."""
    from dashboard import figures_explorer

    sensor, window = _sensor(sensor_db), (T0, T0 + timedelta(hours=HOURS))
    s = explorer.series(sensor_db, sensor, *window, 2000)
    shapes, notes = figures_explorer.decorations([sensor], [s], "UTC", window)
    bands = [sh for sh in shapes if sh["type"] == "rect"]
    assert len(bands) == 1 and sum(n["text"] == "no readings" for n in notes) == 1
    wall = lambda t: float(figures_explorer.local_x(np.array([int(t.timestamp() * 1000)]), "UTC")[0])  # noqa: E731
    # From the last drawn point before the stop to the first after it: drawn per 11 s bucket, within a few buckets.
    assert abs(bands[0]["x0"] - wall(STOP[0])) <= 60_000 and abs(bands[0]["x1"] - wall(STOP[1])) <= 60_000
    inside = (T0 + timedelta(hours=3), T0 + timedelta(hours=4))
    s = explorer.series(sensor_db, sensor, *inside, 2000)
    assert not [sh for sh in figures_explorer.decorations([sensor], [s], "UTC", inside)[0] if sh["type"] == "rect"]
