"""The simulator's model: deterministic, follows each plant's local calendar, leaves gaps when machines stop."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import simulator

T0 = pd.Timestamp("2026-03-02 00:00", tz="UTC")  # a Monday
T1 = T0 + pd.Timedelta(days=2)


@pytest.fixture(scope="module")
def topo() -> simulator.Topology:
    return simulator.topology(seed=7, plants=3, machines=12)


def test_topology_is_reproducible_and_sized():
    a, b = simulator.topology(3, 2, 9), simulator.topology(3, 2, 9)
    assert a == b
    assert len(a.machines) == 9 and len(a.plants) == 2
    assert simulator.topology(4, 2, 9) != a


@pytest.mark.parametrize(("plants", "machines"), [(0, 10), (7, 10), (3, 2)])
def test_topology_refuses_impossible_sizes(plants, machines):
    with pytest.raises(ValueError, match="must be"):
        simulator.topology(1, plants, machines)


@pytest.mark.parametrize("make", ["production", "downtime", "telemetry"])
@pytest.mark.parametrize("seed", [1, 99])
def test_same_seed_same_rows_and_other_seed_other_rows(make, seed):
    def rows(s: int) -> pd.DataFrame:
        topo = simulator.topology(s, 3, 12)
        if make == "telemetry":
            return simulator.telemetry_rows(s, topo, T0 + pd.Timedelta(hours=10), T0 + pd.Timedelta(hours=11))
        fn = simulator.production_rows if make == "production" else simulator.downtime_rows
        return pd.concat([fn(s, m, T0, T1) for m in topo.machines], ignore_index=True)

    simulator.machine_day.cache_clear()
    first = rows(seed)
    simulator.machine_day.cache_clear()
    pd.testing.assert_frame_equal(first, rows(seed))
    assert not first.equals(rows(seed + 1))


def test_rows_do_not_depend_on_how_the_range_is_cut(topo):
    m = topo.machines[0]
    whole = simulator.production_rows(7, m, T0, T1)
    mid = T0 + pd.Timedelta(hours=31, minutes=17)
    parts = pd.concat([simulator.production_rows(7, m, T0, mid), simulator.production_rows(7, m, mid, T1)])
    pd.testing.assert_frame_equal(whole, parts.reset_index(drop=True))
    tel = simulator.telemetry_rows(7, topo, T0 + pd.Timedelta(hours=9), T0 + pd.Timedelta(hours=11))
    tel_a = simulator.telemetry_rows(7, topo, T0 + pd.Timedelta(hours=9), T0 + pd.Timedelta(hours=10, minutes=3))
    merged = tel.merge(tel_a, on=["sensor_id", "ts"])
    assert len(merged) == len(tel_a) > 0
    assert (merged.value_x == merged.value_y).all()


@pytest.mark.parametrize(
    ("plant_id", "local", "planned"),
    [
        ("STR", "2026-03-02 06:00", True),  # Monday, first shift starts
        ("STR", "2026-03-02 05:59", False),
        ("STR", "2026-03-02 10:00", False),  # mid-shift break 10:00-10:30
        ("STR", "2026-03-02 10:30", True),
        ("STR", "2026-03-02 22:00", False),  # two shifts only
        ("STR", "2026-03-07 09:00", False),  # Saturday
        ("PNQ", "2026-03-08 03:00", True),  # Pune runs 24/7, half-hour zone
        ("DET", "2026-03-08 03:00", True),  # Saturday's night shift runs into Sunday
        ("DET", "2026-03-08 06:00", False),  # no shift starts on Sunday
    ],
)
def test_planned_time_follows_local_calendar(topo, plant_id, local, planned):
    plant = next(p for p in topo.plants if p.plant_id == plant_id)
    ts = pd.DatetimeIndex([pd.Timestamp(local, tz=plant.tz).tz_convert("UTC")])
    assert (simulator.planned_minutes(plant, ts)[0] > 0) == planned


def test_production_rows_are_consistent(topo):
    rows = pd.concat([simulator.production_rows(7, m, T0, T1) for m in topo.machines])
    assert (rows.planned_s > 0).all()
    assert (rows.run_s <= rows.planned_s).all() and (rows.run_s >= 0).all()
    assert (rows.good_count + rows.startup_rejects <= rows.total_count).all()
    oee = (rows.good_count * rows.ideal_cycle_s).sum() / rows.planned_s.sum()
    assert 0.4 < oee < 0.95  # a believable plant, not a perfect one


def test_downtime_has_reasons_including_unknown(topo):
    ev = pd.concat([simulator.downtime_rows(7, m, T0, T0 + pd.Timedelta(days=7)) for m in topo.machines])
    assert (ev.end_ts > ev.start_ts).all()
    assert {"unknown", "changeover", "jam"} <= set(ev.reason_code)
    assert not ev.duplicated(["machine_id", "start_ts"]).any()


def test_telemetry_follows_planned_time_and_reads_idle_while_stopped(topo):
    """Sensors of a stopped machine still report (idle values); gaps only where nothing is planned."""
    m = topo.machines[0]
    day = int((T0 - simulator.EPOCH) / simulator.DAY)
    md = simulator.machine_day(7, m, day)
    tel = simulator.telemetry_rows(7, topo, T0, T0 + simulator.DAY, step_s=60)
    sid = {k: s for s, mm, k in topo.sensors() if mm is m}
    vib = tel[tel.sensor_id == sid[1]].set_index("ts")["value"]
    planned, stopped = set(md.minutes[md.planned > 0]), set(md.minutes[(md.planned > 0) & (md.run < 30)])
    assert len(stopped) > 0 and len(planned) < 1440
    assert set(vib.index) == planned  # a reading in every planned minute, none outside
    running = vib[[t for t in vib.index if t not in stopped]]
    assert vib[sorted(stopped)].mean() < 0.3 * running.mean()  # a stopped machine is quiet, not missing


def test_newest_reading_keeps_up_with_production(topo):
    """What the live demo showed: DET-L1-M1's newest reading 25 minutes behind its production. Now, at any minute
    of the day, every machine's newest reading is within a minute of its newest production minute."""
    start = T0 + pd.Timedelta(hours=6)
    for end in pd.date_range(start + pd.Timedelta(minutes=7), T0 + simulator.DAY, freq="97min"):
        tel = simulator.telemetry_rows(7, topo, start, end, step_s=60)
        for m in topo.machines:
            prod = simulator.production_rows(7, m, start, end)
            if prod.empty:
                continue
            ids = [s for s, mm, _ in topo.sensors() if mm is m]
            newest = tel[tel.sensor_id.isin(ids)].ts.max()
            assert newest >= prod.ts.max(), (m.machine_id, end, newest, prod.ts.max())


def test_inventory_never_negative_and_some_runs_low(topo):
    moves, levels = simulator.Inventory(topo).run(T0, T0 + pd.Timedelta(days=21))
    assert (levels.on_hand >= 0).all()
    assert set(moves.kind) == {"receipt", "consumption"}
    policy = simulator.dimensions(topo)["stock_policy"]
    low = levels.merge(policy, on=["plant_id", "material_id"]).query("on_hand < safety_stock")
    assert low.material_id.nunique() >= 1


def test_stock_policy_is_one_a_planner_would_set(topo):
    """Reorder point = demand over the lead time + safety stock, with the daily use the simulation really has."""
    policy = simulator.dimensions(topo)["stock_policy"]
    days = 56
    moves, _ = simulator.Inventory(topo).run(T0, T0 + pd.Timedelta(days=days))
    used = moves[moves.kind == "consumption"].groupby(["plant_id", "material_id"])["qty"].sum() / days
    for i, plant in enumerate(topo.plants):
        for k, (mat, *_) in enumerate(simulator.MATERIALS):
            reorder, safety, lead, daily, _ = simulator._policy(topo.seed, i, k)
            row = policy[(policy.plant_id == plant.plant_id) & (policy.material_id == mat)].iloc[0]
            assert row.reorder_point == pytest.approx(daily * lead + safety)
            assert row.safety_stock == safety > 0
            # The simulated use averages the policy's daily use (within 5 % over eight weeks) ...
            assert used[(plant.plant_id, mat)] == pytest.approx(daily, rel=0.05)
            # ... so the reorder point is a few days of real use, not the ~50 days the old demo showed.
            assert 2 < row.reorder_point / used[(plant.plant_id, mat)] < 20


def test_replenishment_arrives_before_stock_runs_out(topo):
    """Eight weeks of hourly stock: no material sits at zero, every material is replenished, and the unreliable
    suppliers' late deliveries only dip into the safety stock."""
    moves, levels = simulator.Inventory(topo).run(T0, T0 + pd.Timedelta(days=56))
    assert (levels.on_hand > 0).all(), levels[levels.on_hand <= 0].head()
    receipts = moves[moves.kind == "receipt"].groupby(["plant_id", "material_id"]).size()
    assert len(receipts) == len(topo.plants) * len(simulator.MATERIALS)
    policy = simulator.dimensions(topo)["stock_policy"]
    merged = levels.merge(policy, on=["plant_id", "material_id"])
    below = merged.on_hand <= merged.reorder_point
    assert 0.05 < below.mean() < 0.6  # some time below the reorder point (orders in flight), not most of it
    assert (merged.on_hand < merged.safety_stock).any()  # the late suppliers show on the dashboard
