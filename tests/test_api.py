"""The REST API in-process on known data: the same numbers as the pages' functions, plant scope, revocation at once,
errors in words, cursors and rate limits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from flask import Flask

from dashboard import accounts, analytics, data, ingest, rollups
from dashboard.api import web
from dashboard.config import Settings
from dashboard.viewstate import View
from tests.conftest import ROOT, known_database

DAYS = {"range": "custom", "from": "2026-01-14", "to": "2026-01-15"}
VIEW = View("custom", date(2026, 1, 14), date(2026, 1, 15))
T0 = datetime(2026, 1, 14, 6, tzinfo=UTC)
FOREIGN = ("CCU", "Kolkata", "K1", "K2", "Asia/")  # what a Berlin-only token must never see


def load_sensors(engine) -> None:
    """Sensor 1 on Berlin's B1, sensor 2 on Kolkata's K1: an hour of 1 Hz readings each."""
    ts = pd.date_range(T0, periods=3600, freq="s")
    with engine.begin() as conn:
        ingest.upsert(
            conn,
            "sensor",
            pd.DataFrame(
                [(1, "B1", "temperature", "°C", 15.0, 80.0), (2, "K1", "pressure", "bar", None, 9.0)],
                columns=["sensor_id", "machine_id", "kind", "unit", "lo_limit", "hi_limit"],
            ),
        )
        for sid in (1, 2):
            value = 50 + 10 * np.sin(np.arange(3600) / (300.0 * sid))
            ingest.upsert(conn, "telemetry", pd.DataFrame({"sensor_id": sid, "ts": ts, "value": value}))
    rollups.refresh(engine)


@pytest.fixture(scope="module")
def known(pg_admin_url):
    with known_database(pg_admin_url) as engine:
        load_sensors(engine)
        yield engine


def _client(engine, **settings):  # noqa: ANN001, ANN202
    s = Settings(refresh_seconds=5, **settings)
    server = Flask("api-test")
    data.init_app(server, engine, s)
    web.init_app(server, engine, s)
    return server.test_client()


@pytest.fixture(scope="module")
def api(known):
    client = _client(known)
    tokens = {
        "all": accounts.add_api_token(known, "all", [], all_plants=True),
        "ber": accounts.add_api_token(known, "ber", ["BER"]),
    }

    def get(path: str, who: str = "all", **params: str) -> tuple[int, dict]:
        r = client.get("/api/v1" + path, query_string=params, headers={"Authorization": f"Bearer {tokens[who]}"})
        assert r.is_json, r.data[:200]
        return r.status_code, r.get_json()

    return get


def _close(a: object, b: object) -> bool:
    if a is None or (isinstance(a, float) and np.isnan(a)):
        return b is None or (isinstance(b, float) and np.isnan(b))
    return abs(float(a) - float(b)) < 1e-12


def test_oee_totals_are_the_overview_numbers(api):
    status, body = api("/oee", **DAYS)
    assert status == 200
    # By hand (tests/known.py): good ideal 5310 s of 9000 s planned; BER 1800 / 3600, CCU 3510 / 5400.
    assert body["total"]["oee"] == pytest.approx(0.59, abs=1e-12)
    assert {p["plant_id"]: round(p["oee"], 12) for p in body["plants"]} == {"BER": 0.5, "CCU": 0.65}
    at = datetime.now(UTC)
    page = analytics.totals(analytics.per_plant(VIEW, at))
    for k in ("oee", "availability", "performance", "quality", "planned_s", "good_count"):
        assert _close(body["total"][k], page[k]), k
    assert body["view"]["link"] == "#range=custom&from=2026-01-14&to=2026-01-15"


@pytest.mark.parametrize("group", ["plant", "line", "machine"])
def test_groups_and_daily_are_the_oee_pages_numbers(api, group):
    at = datetime.now(UTC)
    view = View("custom", date(2026, 1, 14), date(2026, 1, 15), group=group)
    _, body = api("/oee/groups", group=group, **DAYS)
    page = analytics.group_totals(view, at).set_index("key")
    assert sorted(i["key"] for i in body["items"]) == sorted(page.index)
    for i in body["items"]:
        assert _close(i["oee"], page.loc[i["key"], "oee"]) and _close(i["run_s"], page.loc[i["key"], "run_s"])
    _, daily = api("/oee/daily", group=group, **DAYS)
    got = {(i["key"], i["day"]): i["oee"] for i in daily["items"]}
    want = {}
    for w in analytics.plant_windows(view, at):
        first = pd.Timestamp(w.start).tz_convert(w.tz).date()
        last = (pd.Timestamp(w.end).tz_convert(w.tz) - pd.Timedelta(microseconds=1)).date()
        for r in data.oee_daily(first, last, group, analytics.scope(view, w.plant_id)).itertuples():
            want[(r.key, r.day.isoformat())] = r.oee
    assert got.keys() == want.keys() and all(_close(got[k], want[k]) for k in got)
    if group == "machine":  # the OEE page's heatmap: B1 on both Berlin days, K2 on Kolkata's 14th only
        assert got[("K2", "2026-01-14")] == pytest.approx(0.65)  # 26 good x 1.5 s = 39 s of each planned 60 s
        assert ("K2", "2026-01-15") not in got


def test_series_losses_downtime_and_inventory_are_the_pages_numbers(api):
    at = datetime.now(UTC)
    frame, bucket, _ = analytics.trend(VIEW, at)
    frame = frame.dropna(subset=["planned_s"])
    _, series = api("/oee/series", **DAYS)
    assert series["bucket"] == str(bucket) and len(series["items"]) == len(frame)
    assert all(_close(a["oee"], b) for a, b in zip(series["items"], frame["oee"]))
    _, losses = api("/losses", **DAYS)
    want = analytics.losses(VIEW, at)
    assert [i["category"] for i in losses["items"]] == list(want["category"])
    assert all(_close(a["seconds"], b) for a, b in zip(losses["items"], want["seconds"]))
    # By hand: reduced speed = run 6750 s - ideal 5700 s = 1050 s.
    assert next(i for i in losses["items"] if i["category"] == "reduced_speed")["seconds"] == pytest.approx(1050)
    _, downtime = api("/downtime", **DAYS)
    assert downtime["items"] == []  # the known data records no stops
    _, stock = api("/inventory")
    by = {i["material_id"]: i for i in stock["items"]}
    assert by["M1"]["days_of_cover"] == pytest.approx(8.0) and by["M1"]["value"] == pytest.approx(2000.0)
    assert by["M2"]["below_reorder"] is True


def test_sensor_series_is_the_explorers_reduction(api):
    start, end = T0, T0 + timedelta(hours=1)
    status, body = api("/sensors/1/series", **{"from": start.isoformat(), "to": end.isoformat(), "width": "300"})
    assert status == 200
    s = data.sensor_series(1, start, end, 300)
    assert body["label"] == s.label and body["t"] == [int(v) for v in s.x]
    assert all(_close(a, b) for a, b in zip(body["value"], s.y)) and body["unit"] == "°C"
    status, body = api("/sensors/1/series", **{"from": "2026-01-14T06:00:00", "to": end.isoformat()})
    assert status == 400 and "from" in body["message"]  # a time without its offset is ambiguous


def test_a_berlin_token_gets_nothing_of_kolkata(api):
    answers = [
        api("/plants", "ber"),
        api("/oee", "ber", **DAYS),
        api("/oee/groups", "ber", group="machine", **DAYS),
        api("/oee/series", "ber", group="machine", **DAYS),
        api("/oee/daily", "ber", group="machine", **DAYS),
        api("/losses", "ber", **DAYS),
        api("/inventory", "ber"),
        api("/sensors", "ber"),
    ]
    assert all(status == 200 for status, _ in answers)
    text = json.dumps([b for _, b in answers])
    assert not [w for w in FOREIGN if w in text]
    assert answers[1][1]["total"]["oee"] == pytest.approx(0.5)  # Berlin alone
    assert [s["sensor_id"] for s in answers[7][1]["items"]] == [1]
    status, body = api("/oee", "ber", plant="CCU", **DAYS)
    assert status == 404 and body["message"] == "Unknown plant 'CCU' (or not one this token may read)"
    status, body = api("/sensors/2/series", "ber", **{"from": T0.isoformat(), "to": (T0 + timedelta(hours=1)).isoformat()})
    assert status == 404 and "unknown sensor 2" in body["message"]


def test_a_revoked_token_gets_401_at_once(known):
    client = _client(known)
    token = accounts.add_api_token(known, "soon-gone", ["BER"])
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/plants", headers=auth).status_code == 200
    assert accounts.revoke_api_token(known, "soon-gone") == 1
    r = client.get("/api/v1/plants", headers=auth)
    assert r.status_code == 401 and r.get_json()["message"] == "this API token is not valid or was revoked"


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("/oee", {"from": "2026-13-01", "to": "2026-01-15"}, 400, "parameter 'from'"),
        ("/oee", {"from": "2026-02-10", "to": "2026-01-01"}, 400, "'from' 2026-02-10 is after 'to' 2026-01-01"),
        ("/oee", {"range": "custom", "from": "2026-01-01"}, 400, "needs both 'from' and 'to'"),
        ("/oee", {"range": "fortnight"}, 400, "parameter 'range'"),
        ("/oee", {"plant": "NOPE"}, 404, "Unknown plant 'NOPE'"),
        ("/oee", {"colour": "red"}, 400, "unknown parameter 'colour'"),
        ("/oee/series", {"cursor": "garbage"}, 400, "'cursor' is not one this API gave out"),
        ("/no/such/thing", {}, 404, "there is no /api/v1/no/such/thing"),
        ("/sensors/99/series", {"from": "2026-01-14T00:00Z", "to": "2026-01-13T00:00Z"}, 400, "is not after"),
    ],
)
def test_errors_are_json_with_the_status_and_words(api, path, params, status, words):
    got, body = api(path, **params)
    assert got == status and body["status"] == status and words in body["message"], body


def test_no_token_and_writes_are_refused_in_words(known):
    client = _client(known)
    r = client.get("/api/v1/oee")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer" and "Bearer" in r.get_json()["message"]
    r = client.get("/api/v1/oee", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    assert client.get("/api/v1/openapi.json").status_code == 200  # the document itself is public


def test_cursor_pages_add_up_to_the_whole_list(api):
    _, whole = api("/oee/series", group="machine", **DAYS)
    assert whole["next_cursor"] is None and len(whole["items"]) > 5
    items, cursor = [], None
    while True:
        _, body = api("/oee/series", group="machine", limit="5", **({"cursor": cursor} if cursor else {}), **DAYS)
        items += body["items"]
        assert len(body["items"]) <= 5
        if not (cursor := body["next_cursor"]):
            break
    assert items == whole["items"]


@pytest.mark.parametrize("store", ["postgresql", "redis"])
def test_rate_limit_per_token(known, store):
    if store == "redis":
        import redis

        redis.Redis.from_url(os.environ["TEST_REDIS_URL"]).flushdb()
    client = _client(known, api_rate_limit=3, redis_url=os.environ["TEST_REDIS_URL"] if store == "redis" else "")
    a = {"Authorization": f"Bearer {accounts.add_api_token(known, f'limited-{store}', ['BER'])}"}
    b = {"Authorization": f"Bearer {accounts.add_api_token(known, f'other-{store}', ['BER'])}"}
    if time.time() % 60 > 57:  # the window must not turn between these requests
        time.sleep(60 - time.time() % 60)
    codes = [client.get("/api/v1/plants", headers=a).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = client.get("/api/v1/plants", headers=a)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) <= 60 and "more than 3 requests" in r.get_json()["message"]
    assert client.get("/api/v1/plants", headers=b).status_code == 200  # another token has its own count
    if store == "redis":  # counted where every worker and host sees it
        import redis

        assert redis.Redis.from_url(os.environ["TEST_REDIS_URL"]).keys(f"api:api:limited-{store}:*")


def test_the_accounts_cli_manages_api_tokens_and_says_why(known):
    url = known.url.render_as_string(hide_password=False)

    def cli(*args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "DATABASE_URL": url}
        return subprocess.run([sys.executable, "-m", "dashboard.accounts", *args], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=60)

    made = cli("add-api-token", "mes-berlin", "--plants", "BER")
    said = made.stdout.splitlines()  # the first line names the database, as every CLI's does
    assert made.returncode == 0 and said[0].startswith("database: ")
    assert said[1].startswith("API token mes-berlin (shown once): pd_")
    again = cli("add-api-token", "mes-berlin", "--plants", "BER")
    assert again.returncode == 2 and again.stderr.strip().startswith("error: an API token named 'mes-berlin' exists")
    bad = cli("add-api-token", "x", "--plants", "DET")
    assert bad.returncode == 2 and bad.stderr.strip() == "error: unknown plant 'DET'; the plants are: BER, CCU."
    assert cli("add-api-token", "y").stderr.strip().startswith("error: say which plants the token may read")
    assert cli("revoke-api-token", "mes-berlin").stdout.splitlines()[-1] == "API token mes-berlin revoked"
    gone = cli("revoke-api-token", "mes-berlin")
    assert gone.returncode == 2 and gone.stderr.strip() == "error: there is no active API token named 'mes-berlin'."
