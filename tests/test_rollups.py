"""Rollups give the same OEE as raw rows, exactly, on plain PostgreSQL and on TimescaleDB."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import ingest, kpi, queries, rollups, simulator
from dashboard.queries import Scope
from dashboard.simulate import Feed
from tests.known import D, _block, load_known

# Worked out by hand: (planned s, run s, ideal run s, good ideal s) and the OEE they give.
#   B1 first half hour:  30 x (60, 50, 20 x 2 s, 18 x 2 s)   = (1800, 1500, 1200, 1080) -> OEE 0.6
#   B1 second half hour: 30 x (60, 30, 12 x 2 s, 12 x 2 s)   = (1800,  900,  720,  720) -> OEE 0.4
#   K1 first half hour:  30 x (60, 60, 18 x 3 s, 18 x 3 s)   = (1800, 1800, 1620, 1620) -> OEE 0.9
#   K1 second half hour: 30 x (60, 40, 10 x 3 s,  8 x 3 s)   = (1800, 1200,  900,  720) -> OEE 0.4
#   K2 half hour:        30 x (60, 45, 28 x 1.5 s, 26 x 1.5) = (1800, 1350, 1260, 1170) -> OEE 0.65
HOURLY = {  # UTC hour, plant
    (D + timedelta(hours=18), "CCU"): ((5400, 4350, 3780, 3510), 0.65),
    (D + timedelta(hours=22), "BER"): ((1800, 1500, 1200, 1080), 0.6),
    (D + timedelta(hours=23), "BER"): ((1800, 900, 720, 720), 0.4),
}
DAILY = {  # plant-local day, plant: a UTC day would put all of it on the 14th
    (date(2026, 1, 14), "BER"): ((1800, 1500, 1200, 1080), 0.6),
    (date(2026, 1, 15), "BER"): ((1800, 900, 720, 720), 0.4),
    (date(2026, 1, 14), "CCU"): ((3600, 3150, 2880, 2790), 0.775),
    (date(2026, 1, 15), "CCU"): ((1800, 1200, 900, 720), 0.4),
}
PER_PLANT = {"BER": ((3600, 2400, 1920, 1800), 0.5), "CCU": ((5400, 4350, 3780, 3510), 0.65)}
ALL = {"all": ((9000, 6750, 5700, 5310), 0.59)}
# 18:10 to 23:20 UTC cuts every block: K1 20 + 30 min, K2 20 min, B1 30 + 20 min.
RAGGED = {"all": ((7200, 5400, 4500, 4140), 0.575)}


def _check(frame: pd.DataFrame, expected: dict, key_cols: list[str]) -> None:
    got = kpi.add_ratios(frame)
    assert len(got) == len(expected)
    for row in got.to_dict("records"):
        key = tuple(row[c] for c in key_cols)
        (planned, run, ideal, good_ideal), oee = expected[key if len(key) > 1 else key[0]]
        assert (row["planned_s"], row["run_s"], row["ideal_run_s"], row["good_ideal_s"]) == (
            planned,
            run,
            ideal,
            good_ideal,
        )
        assert row["availability"] == run / planned
        assert row["performance"] == ideal / run
        assert row["quality"] == good_ideal / ideal
        assert row["oee"] == good_ideal / planned
        assert row["oee"] == pytest.approx(oee, abs=1e-15)


@pytest.fixture
def known(any_engine: sa.Engine) -> sa.Engine:
    load_known(any_engine)
    return any_engine


def test_hourly_per_plant(known):
    frame = queries.oee_series(known, D, D + timedelta(days=1), 3600, "plant")
    frame["bucket"] = frame["bucket"].map(lambda t: t.to_pydatetime())
    _check(frame, HOURLY, ["bucket", "key"])


def test_plant_local_days(known):
    _check(queries.oee_daily(known, date(2026, 1, 14), date(2026, 1, 15), "plant"), DAILY, ["day", "key"])


@pytest.mark.parametrize(("group", "expected"), [("plant", PER_PLANT), ("all", ALL)])
def test_totals(known, group, expected):
    _check(queries.oee_totals(known, D, D + timedelta(days=1), group), expected, ["key"])


def test_ragged_range_mixes_levels_and_stays_exact(known):
    start, end = D + timedelta(hours=18, minutes=10), D + timedelta(hours=23, minutes=20)
    levels = {rel for rel, _, _ in queries.pieces(start, end)}
    assert levels == {"production_5m", "production_15m", "production_1h"}  # 18:10-18:15 and 23:15-23:20 in 5 min
    _check(queries.oee_totals(known, start, end, "all"), RAGGED, ["key"])


def test_empty_buckets_are_gaps_not_zeros(known):
    frame = queries.oee_series(known, D, D + timedelta(days=1), 3600, "plant")
    assert len(frame) == 3  # 24 hours asked, three had production
    assert queries.oee_totals(known, D - timedelta(days=3), D - timedelta(days=2), "plant").empty


def test_scope_filters_machines(known):
    frame = queries.oee_totals(known, D, D + timedelta(days=1), "machine", Scope(machines=("K2",)))
    _check(frame, {"K2": ((1800, 1350, 1260, 1170), 0.65)}, ["key"])


def test_late_correction_reaches_every_level(known):
    # One K2 minute re-sent with 6 fewer good parts: 6 x 1.5 s less fully productive time.
    fix = _block("K2", D + timedelta(hours=18, minutes=7), 1, 45, 28, 20, 1.5)
    with known.begin() as conn:
        assert ingest.upsert(conn, "production", fix) == 1
    rollups.refresh(known)
    daily = queries.oee_daily(known, date(2026, 1, 14), date(2026, 1, 14), "plant", Scope(plants=("CCU",)))
    assert daily["good_ideal_s"].tolist() == [2790 - 9]
    hourly = queries.oee_series(known, D + timedelta(hours=18), D + timedelta(hours=19), 3600, "plant")
    assert hourly["good_ideal_s"].tolist() == [3510 - 9]


def test_refresh_twice_and_concurrently_changes_nothing(known):
    import threading

    before = queries.oee_daily(known, date(2026, 1, 14), date(2026, 1, 15), "machine")
    threads = [threading.Thread(target=rollups.refresh, args=(known,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pd.testing.assert_frame_equal(before, queries.oee_daily(known, date(2026, 1, 14), date(2026, 1, 15), "machine"))


# --- Property: for random ranges and groupings the rollups answer what the raw rows answer.
T0 = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture
def simulated(any_engine: sa.Engine) -> sa.Engine:
    feed = Feed(any_engine, simulator.topology(11, 3, 6), hf_hours=0, step_s=600, sensors=1)
    feed.backfill(T0, T0 + timedelta(days=2), progress=False)
    rollups.refresh(any_engine)
    return any_engine


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert a.drop(columns=queries.PARTS).equals(b.drop(columns=queries.PARTS))
    for p in queries.PARTS:  # sums in another order differ in the last bits only
        assert a[p].tolist() == pytest.approx(b[p].tolist(), rel=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.integers(0, 2 * 1440 - 1),
    length=st.integers(1, 2 * 1440),
    group=st.sampled_from(list(queries.GROUPS)),
    bucket=st.sampled_from([300, 900, 1800, 3600, 7200, 21600]),
)
def test_rollups_equal_raw_for_any_range(simulated, start, length, group, bucket):
    lo = T0 + timedelta(minutes=start)
    hi = lo + timedelta(minutes=length)
    _same(queries.oee_totals(simulated, lo, hi, group), queries.oee_totals(simulated, lo, hi, group, raw=True))
    _same(
        queries.oee_series(simulated, lo, hi, bucket, group),
        queries.oee_series(simulated, lo, hi, bucket, group, raw=True),
    )


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.integers(-1, 2), days=st.integers(0, 2), group=st.sampled_from(list(queries.GROUPS)))
def test_local_days_equal_raw(simulated, first, days, group):
    a = T0.date() + timedelta(days=first)
    b = a + timedelta(days=days)
    _same(queries.oee_daily(simulated, a, b, group), queries.oee_daily_raw(simulated, a, b, group))


def test_sensor_rollups_keep_min_max_sum_count(simulated):
    with simulated.connect() as conn:
        raw = conn.execute(
            sa.text(
                "select sensor_id, date_trunc('hour', ts, 'UTC') as h, min(value), max(value), sum(value), count(*)"
                " from telemetry group by 1, 2 order by 1, 2"
            )
        ).all()
        hourly = conn.execute(
            sa.text("select sensor_id, bucket, min, max, sum, count from telemetry_1h order by 1, 2")
        ).all()
    assert len(raw) == len(hourly) > 0
    for r, h in zip(raw, hourly, strict=True):
        assert (r[0], r[1], r[2], r[3], r[5]) == (h[0], h[1], h[2], h[3], h[5])
        assert r[4] == pytest.approx(h[4], rel=1e-12)


@pytest.mark.parametrize(("width", "level"), [("10 seconds", "telemetry_10s"), ("5 minutes", "telemetry_5m")])
def test_sensor_levels_match_raw(simulated, width, level):
    with simulated.connect() as conn:
        raw = conn.execute(
            sa.text(
                "select sensor_id, date_bin(cast(:w as interval), ts, timestamptz '2000-01-01 00:00+00'),"
                " min(value), max(value), count(*) from telemetry group by 1, 2 order by 1, 2"
            ),
            {"w": width},
        ).all()
        rolled = conn.execute(sa.text(f"select sensor_id, bucket, min, max, count from {level} order by 1, 2")).all()
    assert raw == rolled and len(raw) > 0


def test_compression_policy_follows_the_setting(any_engine):
    rollups.ensure(any_engine, compress_after_days=9)
    rollups.ensure(any_engine, compress_after_days=9)
    rollups.ensure(any_engine, compress_after_days=12)
    with any_engine.connect() as conn:
        if any_engine.kind == "plain":
            assert not rollups.is_timescale(conn)
            return
        policies = conn.execute(
            sa.text(
                "select hypertable_name, config->>'compress_after' from timescaledb_information.jobs"
                " where proc_name = 'policy_compression' order by 1"
            )
        ).all()
    assert policies == [("production", "12 days"), ("telemetry", "12 days")]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.integers(-1440, 2 * 1440 - 1),
    length=st.integers(1, 4 * 1440),
    group=st.sampled_from(list(queries.GROUPS)),
    plant=st.sampled_from(["DET", "STR", "PNQ"]),
)
def test_whole_local_days_from_the_daily_rollup_equal_raw(simulated, start, length, group, plant):
    """Ranges with whole plant-local days (Detroit, Berlin and Kolkata at +5:30) read them from production_1d, and the
    ragged ends from finer levels: the same sums as the raw rows."""
    lo = T0 + timedelta(minutes=start)
    hi = lo + timedelta(minutes=length)
    tz = {"DET": "America/Detroit", "STR": "Europe/Berlin", "PNQ": "Asia/Kolkata"}[plant]
    scope = Scope(plants=(plant,))
    _same(
        queries.oee_totals(simulated, lo, hi, group, scope, tz=tz),
        queries.oee_totals(simulated, lo, hi, group, scope, raw=True),
    )


@pytest.mark.parametrize(
    "start, end, tz, daily",
    [
        # Berlin moves to summer time on 29 March 2026: that day is 23 hours long, 22:00 to 21:00 UTC.
        ("2026-03-28T22:00Z", "2026-03-29T22:00Z", "Europe/Berlin", ("2026-03-28T23:00Z", "2026-03-29T22:00Z")),
        ("2026-03-28T23:00Z", "2026-03-30T22:00Z", "Europe/Berlin", ("2026-03-28T23:00Z", "2026-03-30T22:00Z")),
        # Kolkata's midnight is 18:30 UTC: the half hour before it comes from 15-minute buckets.
        ("2026-03-01T18:00Z", "2026-03-03T19:00Z", "Asia/Kolkata", ("2026-03-01T18:30Z", "2026-03-03T18:30Z")),
        ("2026-03-01T19:00Z", "2026-03-02T18:00Z", "Asia/Kolkata", None),  # no whole day inside
    ],
)
def test_day_pieces_cover_the_range_with_local_days(start, end, tz, daily):
    lo, hi = pd.Timestamp(start).to_pydatetime(), pd.Timestamp(end).to_pydatetime()
    spans = queries.day_pieces(lo, hi, tz)
    assert spans[0][1] == lo and spans[-1][2] == hi
    assert all(a[2] == b[1] for a, b in zip(spans, spans[1:], strict=False))  # no gap, no overlap
    days = [(a, b) for rel, a, b in spans if rel == "production_1d"]
    expected = [] if daily is None else [tuple(pd.Timestamp(t).to_pydatetime() for t in daily)]
    assert days == expected
