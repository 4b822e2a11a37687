"""Hostile values sent to every server callback, as a Berlin-only user: a clean answer, no Kolkata, no write."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
import requests
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import accounts, db, migrate
from tests.conftest import AppProcess, drop_database, new_database
from tests.known import load_known, load_stock

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
    url = new_database(pg_admin_url)
    engine = db.create(url)
    migrate.migrate(engine, want_timescale=False)
    load_known(engine)
    load_stock(engine, datetime.now(UTC))
    accounts.add_user(engine, "anna", "anna-password", ["BER"])
    app = AppProcess(url, AUTH="password", SECRET_KEY="fuzz-secret-0123456789", REFRESH_SECONDS="60")
    session = requests.Session()
    csrf = re.search(r'name="csrf" value="([^"]+)"', session.get(app.url + "/login").text).group(1)
    assert session.post(app.url + "/login", data={"username": "anna", "password": "anna-password", "csrf": csrf}).ok
    deps = [c for c in session.get(app.url + "/_dash-dependencies").json() if not c.get("clientside_function")]
    yield engine, app, session, deps
    app.stop()
    engine.dispose()
    drop_database(pg_admin_url, url)


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


def _entry(dep: dict, value: object, hostile_id: str) -> dict | list:
    """One input or state as the browser sends it; a pattern-matching id gets a concrete (hostile) member."""
    if dep["id"].startswith("{"):
        pattern = json.loads(dep["id"])
        concrete = {k: hostile_id if v == ["ALL"] else v for k, v in pattern.items()}
        return [{"id": concrete, "property": dep["property"], "value": value}]
    return {"id": dep["id"], "property": dep["property"], "value": value}


def _body(cb: dict, values: list, hostile_id: str) -> dict:
    parts = cb["output"][2:-2].split("...") if cb["output"].startswith("..") else [cb["output"]]
    outputs = [dict(zip(("id", "property"), p.split("@")[0].rsplit(".", 1), strict=True)) for p in parts]
    deps = cb["inputs"] + cb.get("state", [])
    entries = [_entry(d, v, hostile_id) for d, v in zip(deps, values, strict=False)]
    return {
        "output": cb["output"],
        "outputs": outputs if cb["output"].startswith("..") else outputs[0],
        "inputs": entries[: len(cb["inputs"])],
        "state": entries[len(cb["inputs"]) :],
        "changedPropIds": [f"{cb['inputs'][0]['id']}.{cb['inputs'][0]['property']}"],
    }


def _strings(node):  # noqa: ANN001, ANN202
    if isinstance(node, dict):
        for k, v in node.items():
            if k != "bdata":
                yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)
    elif isinstance(node, str):
        yield node


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
        r = session.post(app.url + "/_dash-update-component", json=_body(cb, values, hostile_id), timeout=60)
        assert r.status_code in (200, 204), (cb["output"], r.status_code, r.text[:300])
        if r.status_code == 200:
            answer = r.json()
            assert {w for s in _strings(answer) for w in FOREIGN if w in s} == set(), cb["output"]

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
