"""Hostile values sent to every server callback, as a Berlin-only user: a clean answer, no Kolkata, no write."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import accounts
from tests import dash_client
from tests.conftest import AppProcess, known_database

FOREIGN = ("Kolkata",)  # only the database knows this name; "CCU" may be echoed back from a hostile input
NASTY = [
    "'; drop table plant; --",
    "1 OR 1=1",
    "CCU' --",
    "CCU",
    "K1",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "A" * 100_000,
    "9999-99-99",
    "2026-02-30",
    "#range=custom&from=2027-01-01&to=2020-01-01&plant=CCU",
    "?plant=CCU&group=machine",
    "\x00",
    "NaN",
    "-1",
    "1e308",
]
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(NASTY),
)
VALUE = st.one_of(
    SCALAR,
    st.lists(SCALAR, max_size=5),
    st.dictionaries(st.sampled_from(["slides", "plants", "preset", "refresh", "x", "chart"]), SCALAR, max_size=4),
    st.fixed_dictionaries({"slides": st.lists(st.lists(SCALAR, min_size=3, max_size=3), max_size=3)}),
)
BASE_TABLES = """select table_name from information_schema.tables
                 where table_schema = 'public' and table_type = 'BASE TABLE' order by 1"""


@pytest.fixture(scope="module")
def target(pg_admin_url):
    with known_database(pg_admin_url) as engine:
        accounts.add_user(engine, "anna", "anna-password", ["BER"])
        url = engine.url.render_as_string(hide_password=False)
        app = AppProcess(url, AUTH="password", SECRET_KEY="fuzz-secret-0123456789", REFRESH_SECONDS="60")
        try:
            session, r = dash_client.sign_in(app.url, "anna", "anna-password")
            assert r.status_code == 302
            yield engine, app, session, dash_client.server_callbacks(app.url, session)
        finally:
            app.stop()


def _fingerprint(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        tables = conn.execute(sa.text(BASE_TABLES)).scalars().all()
        return {
            t: conn.execute(
                sa.text(f"select md5(coalesce(string_agg(x::text, '|' order by x::text), '')) from \"{t}\" x")
            ).scalar()
            for t in tables
            if not t.startswith(("production_", "telemetry_", "rollup_"))  # the app's own refresher keeps these
        }


def test_every_callback_answers_hostile_values_cleanly_and_writes_nothing(target):
    engine, app, session, deps = target
    before = _fingerprint(engine)
    assert len(deps) >= 12  # every server callback of every page is in play
    for cb in deps:
        _fuzz(app, session, cb)
    assert _fingerprint(engine) == before
    assert requests.get(app.url + "/healthz").status_code == 200


def _fuzz(app: AppProcess, session: requests.Session, cb: dict) -> None:
    """Twenty hostile requests to one callback (fixed examples, so a failure is the same on every run)."""
    n = len(cb["inputs"]) + len(cb.get("state", []))

    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(values=st.lists(VALUE, min_size=n, max_size=n), hostile_id=st.sampled_from(NASTY))
    def one(values: list, hostile_id: str) -> None:
        r = session.post(app.url + "/_dash-update-component", json=dash_client.body(cb, values, hostile_id), timeout=60)
        assert r.status_code in (200, 204), (cb["output"], r.status_code, r.text[:300])
        if r.status_code == 200:
            answer = r.json()
            assert {w for s in dash_client.strings(answer) for w in FOREIGN if w in s} == set(), cb["output"]

    one()


@pytest.mark.parametrize(
    "body",
    [
        [],
        "x",
        {"output": 1},
        {"output": "ov-cards.children"},
        {"output": "nope.children", "outputs": {"id": "nope", "property": "children"}, "inputs": []},
        {"output": "ov-download.data", "outputs": {"id": "ov-download", "property": "data"}, "inputs": [{"x": 1}]},
    ],
)
def test_malformed_callback_requests_get_400_in_words(target, body):
    _, app, session, _ = target
    r = session.post(app.url + "/_dash-update-component", json=body)
    assert r.status_code == 400 and "Traceback" not in r.text and r.json()["error"]


# --- Routes that answer without a session, and unknown paths: hostile strings in the path, the query and a form.
OPEN_ROUTES = [
    "/login",
    "/logout",
    "/healthz",
    "/_favicon.ico",
    "/favicon.ico",
    "/_dash-layout",
    "/_dash-dependencies",
    "/_dash-update-component",
    "/_reload-hash",
    "/wall",
    "/assets/{}",
    "/_dash-component-suites/{}",
    "/_dash-component-suites/dash/{}",
    "/_dash-component-suites/dash/deps/{}.js",
    "/vendor/bootstrap/{}",
    "/{}",
    "/_dash-{}",
]


@pytest.fixture(scope="module")
def open_app(pg_admin_url):
    """The same data with sign-in off, where the Dash routes themselves answer everyone."""
    with known_database(pg_admin_url) as engine:
        app = AppProcess(engine.url.render_as_string(hide_password=False), REFRESH_SECONDS="60")
        try:
            yield app
        finally:
            app.stop()


@pytest.mark.parametrize("which", ["signed-in app", "open app"])
def test_open_routes_answer_hostile_strings_without_5xx_or_traceback(target, open_app, which):
    app = target[1] if which == "signed-in app" else open_app
    answers = []
    for route in OPEN_ROUTES:
        for nasty in NASTY:
            short = quote(nasty[:4000], safe="")
            path = route.format(short) if "{}" in route else f"{route}?next={short}&token={short}&reason={short}"
            answers.append((path[:80], raw_request(app.url, "GET", path)))
            if nasty.isprintable() and " " not in nasty and len(nasty) < 100 and "{}" in route:
                answers.append((route.format(nasty), raw_request(app.url, "GET", route.format(nasty))))  # unescaped
            form = {"username": nasty, "password": nasty, "csrf": nasty, "next": nasty}
            answers.append((path[:80], requests.post(app.url + path, data=form, allow_redirects=False).status_code))
    assert [a for a in answers if a[1] >= 500] == []
    assert "Traceback" not in Path(app.log.name).read_text()


def raw_request(base: str, method: str, path: str) -> int:
    """Send exactly this path, with no client-side normalisation of dots or slashes."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.putrequest(method, path, skip_accept_encoding=True)
    conn.endheaders()
    status = conn.getresponse().status
    conn.close()
    return status
