"""Access control in a running app: sign-in, plant scope through pages and crafted callbacks, wall tokens, headers."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta

import flask
import pandas as pd
import pytest
import requests
from flask.sessions import SecureCookieSessionInterface

from dashboard import accounts, ingest, viewstate
from tests import dash_client
from tests.conftest import AppProcess, known_database
from tests.known import D

DAYS = "#range=custom&from=2026-01-14&to=2026-01-15"
SECRET = "test-secret-0123456789abcdef"
FOREIGN = {"Kolkata", "CCU", "Asia/Kolkata", "K1", "K2", "pressure"}  # what anna (Berlin only) must never receive


@pytest.fixture(scope="module")
def known_db(pg_admin_url):
    with known_database(pg_admin_url) as engine:
        _more_for_access(engine)
        yield engine


def _more_for_access(engine) -> None:  # noqa: ANN001
    """A sensor and stock at Kolkata too, and three users: Berlin only (twice) and every plant."""
    with engine.begin() as conn:
        ingest.upsert(
            conn,
            "sensor",
            pd.DataFrame(
                [(1, "B1", "temperature", "°C", None, 80.0), (2, "K1", "pressure", "bar", None, 9.0)],
                columns=["sensor_id", "machine_id", "kind", "unit", "lo_limit", "hi_limit"],
            ),
        )
        at = datetime.now(UTC) - timedelta(hours=1)
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
        ts = pd.date_range(D + timedelta(hours=18), periods=600, freq="s")
        for sid in (1, 2):
            ingest.upsert(conn, "telemetry", pd.DataFrame({"sensor_id": sid, "ts": ts, "value": 5.0 + sid}))
    accounts.add_user(engine, "anna", "anna-password", ["BER"])
    accounts.add_user(engine, "carl", "carl-password", ["BER"])
    accounts.add_user(engine, "boss", "boss-password", [], all_plants=True)


@pytest.fixture(scope="module")
def app(known_db):
    proc = AppProcess(
        known_db.url.render_as_string(hide_password=False),
        AUTH="password",
        SECRET_KEY=SECRET,
        LOGIN_ATTEMPTS="3",
        WALL_REFRESH_SECONDS="5",
        REFRESH_SECONDS="60",
        TRUSTED_PROXIES="1",
    )
    yield proc
    proc.stop()


def _sign_in(app, username: str, password: str, **kwargs: object) -> tuple[requests.Session, requests.Response]:
    return dash_client.sign_in(app.url, username, password, **kwargs)


def _signed_in(app, username: str) -> requests.Session:
    s, r = _sign_in(app, username, f"{username}-password")
    assert r.status_code == 302, r.text
    return s


def _foreign(answer: dict) -> set[str]:
    return {word for s in dash_client.strings(answer) for word in FOREIGN if word in s}


def _callback(app, session: requests.Session, output_prefix: str, values: dict[str, object]) -> requests.Response:
    """Call the server callback whose output starts with ``output_prefix``, inputs and state from ``values``."""
    r = session.get(app.url + "/_dash-dependencies")
    deps = (r if r.status_code == 200 else _signed_in(app, "boss").get(app.url + "/_dash-dependencies")).json()
    cb = dash_client.find(deps, output_prefix)
    return session.post(app.url + "/_dash-update-component", json=dash_client.body(cb, dash_client.by_id(cb, values)))


def _download(app, session: requests.Session, chart: str, view: dict) -> str:
    """What the CSV button of ``chart`` on the OEE page downloads for this view."""
    button = {"chart": chart, "type": "oee-csv"}
    body = {
        "output": "oee-download.data",
        "outputs": {"id": "oee-download", "property": "data"},
        "inputs": [[{"id": button, "property": "n_clicks", "value": 1}]],
        "state": [{"id": "view", "property": "data", "value": view}],
        "changedPropIds": [json.dumps(button, separators=(",", ":")) + ".n_clicks"],
    }
    r = session.post(app.url + "/_dash-update-component", json=body)
    assert r.status_code == 200, r.text
    return r.json()["response"]["oee-download"]["data"]["content"]


def _kolkata_view() -> dict:
    return viewstate.to_store(viewstate.View("custom", date(2026, 1, 14), date(2026, 1, 15), plants=("CCU",)))


def test_pages_and_callbacks_ask_for_sign_in(app):
    r = requests.get(app.url + "/oee", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=%2Foee")
    assert requests.get(app.url + "/_dash-layout").status_code == 401
    assert _callback(app, requests.Session(), "ov-cards", {"view": _kolkata_view(), "tick": 0}).status_code == 401
    assert "Sign in" in requests.get(app.url + "/login").text
    assert requests.get(app.url + "/healthz").status_code == 200


def _cookie(payload: dict, secret: str = SECRET) -> dict:
    """A session cookie as the app would sign it (or as a forger without the key would)."""
    signer = flask.Flask("forge")
    signer.secret_key = secret
    return {"pd_session": SecureCookieSessionInterface().get_signing_serializer(signer).dumps(payload)}


def test_sessions_expire_and_cannot_be_forged(app, known_db):
    get = lambda cookies: requests.get(app.url + "/oee", cookies=cookies, allow_redirects=False)  # noqa: E731
    gen = accounts.user(known_db, "anna").generation
    assert get(_cookie({"u": "anna", "exp": time.time() + 600, "g": gen})).status_code == 200
    expired = get(_cookie({"u": "anna", "exp": time.time() - 1, "g": gen}))
    assert expired.status_code == 302 and "reason=expired" in expired.headers["Location"]
    forged = get(_cookie({"u": "boss", "exp": time.time() + 600, "g": 0}, secret="not-the-secret-key-of-this-app"))
    assert forged.status_code == 302 and forged.headers["Location"].startswith("/login")
    assert get(_cookie({"u": "mallory", "exp": time.time() + 600, "g": 0})).status_code == 302  # no such user
    ended = get(_cookie({"u": "anna", "exp": time.time() + 600, "g": gen - 1}))  # from before a sign out
    assert ended.status_code == 302 and "reason=expired" in ended.headers["Location"]


def test_wrong_password_fails_and_is_rate_limited(app):
    for _ in range(3):  # LOGIN_ATTEMPTS=3
        _, r = _sign_in(app, "carl", "guess")
        assert r.status_code == 401 and "Wrong user name or password" in r.text
    _, r = _sign_in(app, "carl", "carl-password")  # the right one, too late
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text
    _, ok = _sign_in(app, "anna", "anna-password")
    assert ok.status_code == 302  # another user from the same address is not locked out by carl's failures
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # plain HTTP here


def test_sign_in_needs_the_forms_own_token(app):
    data = {"username": "anna", "password": "anna-password"}
    r = requests.post(app.url + "/login", data=data, allow_redirects=False)  # as another site's form would
    assert r.status_code == 400 and "out of date" in r.text
    other = requests.Session()
    token = dash_client.form_token(app.url, other)  # a token, but from another session
    r = requests.post(app.url + "/login", data=data | {"csrf": token}, allow_redirects=False)
    assert r.status_code == 400
    assert requests.get(app.url + "/oee", cookies=r.cookies, allow_redirects=False).status_code == 302


def test_cookies_are_secure_behind_an_https_proxy(app):
    _, r = _sign_in(app, "anna", "anna-password", headers={"X-Forwarded-Proto": "https"})
    assert r.status_code == 302
    assert "Secure" in r.headers["Set-Cookie"]
    assert "max-age" in r.headers["Strict-Transport-Security"]


def test_security_headers(app):
    h = requests.get(app.url + "/login").headers
    csp = h["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
    assert h["X-Frame-Options"] == "DENY" and h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "no-referrer"


@pytest.mark.browser
def test_a_berlin_user_sees_no_kolkata_row_on_any_page(app, page):
    answers: list[dict] = []

    def keep(response) -> None:  # noqa: ANN001
        if "_dash-update-component" in response.url and response.status == 200:
            answers.append(response.json())

    page.on("response", keep)
    page.goto(app.url + "/")
    page.fill("#username", "anna")
    page.fill("#password", "anna-password")
    page.click("button[type=submit]")
    page.wait_for_url(app.url + "/")
    page.goto(app.url + "/" + DAYS)
    page.wait_for_function("document.querySelector('#ov-kpi-oee') && document.querySelector('#ov-kpi-oee').innerText")
    assert page.locator("#ov-kpi-oee").inner_text() == "50.0 %"  # Berlin alone (tests/known.py); both plants: 59.0 %
    for path in ("/oee", "/inventory", "/explorer"):
        page.goto(app.url + path + DAYS)
        page.wait_for_selector(".js-plotly-plot .main-svg")
        page.wait_for_timeout(1500)
    assert len(answers) > 8
    assert set().union(*(_foreign(a) for a in answers)) == set()
    assert "Sign out" in page.locator("#nav-bar").inner_text()


def test_crafted_callbacks_naming_kolkata_get_nothing(app):
    anna, boss = _signed_in(app, "anna"), _signed_in(app, "boss")
    view = {"view": _kolkata_view(), "tick": 0}
    # The same crafted request shows Kolkata to someone who may see it: the request itself is sound.
    assert "Kolkata" in json.dumps(_callback(app, boss, "oee-trend", view).json())
    assert "CCU" in json.dumps(_callback(app, boss, "inv-grid", view | {"inv-material": "M1"}).json())
    for prefix in ("ov-cards", "oee-trend", "inv-grid"):
        r = _callback(app, anna, prefix, view | {"inv-material": "M1"})
        assert r.status_code in (200, 204)
        if r.status_code == 200:
            assert _foreign(r.json()) == set(), prefix
    for who, shown in ((boss, True), (anna, False)):  # the CSV of the A/P/Q chart, as its button sends it
        csv = _download(app, who, "oee-groups", _kolkata_view())
        assert ("Kolkata" in csv or "CCU" in csv) is shown
    r = _callback(app, anna, "exp-graph.figure", {"exp-sensors": [2], "exp-range": "1y", "exp-width": 1200})
    assert r.status_code == 204 or _foreign(r.json()) == set()
    assert "pressure" in json.dumps(_callback(app, boss, "exp-sensors", {"exp-machine": "K1"}).json())
    assert _foreign(_callback(app, anna, "exp-sensors", {"exp-machine": "K1"}).json()) == set()
    slides = {"slides": [["oee", "CCU", "Asia/Kolkata"]], "refresh": 5, "rotate": 30}
    r = _callback(app, anna, "wall-plant", {"wall-tick": 1, "wall-slide": 0, "wall-config": slides})
    assert r.status_code == 204 or r.json()["response"] == {}  # refused before the shared slide cache is asked
    out = _callback(app, anna, "url.hash", {"url": "#plant=CCU"}).json()["response"]
    assert "Unknown plant" in json.dumps(out["flt-notice"])  # told as for any plant that does not exist
    assert [o["value"] for o in out["flt-plants"]["options"]] == ["BER"] and out["view"]["data"]["plants"] == []


@pytest.mark.browser
def test_a_revoked_wall_token_stops_at_the_next_refresh(app, known_db, browser):
    token = accounts.add_token(known_db, "lobby", ["BER"], ["oee"])
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(app.url + f"/wall?token={token}&rotate=10")
    page.wait_for_function("document.querySelector('#wall-plant') && document.querySelector('#wall-plant').innerText")
    assert token not in page.url and "rotate=10" in page.url  # the token is in the cookie, not the address bar
    assert page.locator("#wall-plant").inner_text() == "Berlin"
    assert page.locator("#wall-view").inner_text() == "OEE today"
    assert page.locator("#wall-notice").inner_text() == ""  # the token's views are the default, not an error
    assert page.request.get(app.url + "/oee").status == 403  # a wall token opens the wall only
    accounts.revoke_token(known_db, "lobby")
    page.wait_for_url("**/login?**", timeout=20_000)  # WALL_REFRESH_SECONDS=5, principals are re-read every 2 s
    assert "revoked" in page.inner_text("body")
    page.goto(app.url + f"/wall?token={token}")
    assert "/login" in page.url
    context.close()


def test_header_mode_trusts_the_proxy_for_known_users_only(known_db, app_factory):
    url = known_db.url.render_as_string(hide_password=False)
    proxy = app_factory(url, AUTH="header", SECRET_KEY=SECRET, REFRESH_SECONDS="60")
    assert requests.get(proxy.url + "/oee", headers={"X-Forwarded-User": "anna"}).status_code == 200
    for headers in ({}, {"X-Forwarded-User": "mallory"}):
        r = requests.get(proxy.url + "/oee", headers=headers)
        assert r.status_code == 403 and "single sign-on" in r.text
    s = requests.Session()
    s.headers["X-Forwarded-User"] = "anna"
    r = _callback(proxy, s, "oee-trend", {"view": _kolkata_view(), "tick": 0})
    assert r.status_code == 204 or _foreign(r.json()) == set()
