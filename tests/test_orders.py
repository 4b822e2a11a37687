"""Lead time by stage, WIP and OTIF on seven hand-worked orders (tests/orders_known.py), pure and through SQL."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from dashboard import queries_orders as queries
from dashboard.orders import calc
from tests import orders_known as K

TOL = 2.0  # OTIF_TOLERANCE_PCT: 50 x 0.98 = 49 is in full, 40 is not
AS_OF = {p: e for p, (_, e) in K.WINDOWS.items()}
TODAY = {"STR": date(2026, 3, 31), "DET": date(2026, 3, 31)}  # the last local day of each window


@pytest.fixture
def enriched() -> pd.DataFrame:
    return calc.enrich(K.facts(), K.ZONES, TOL)


def test_stages_cross_midnight_and_dst_in_calendar_time(enriched):
    o1 = enriched.set_index("order_id").loc["O1"]
    # Released 00:30 CET, started 03:30 CEST: 3 h on the wall clock, 2 h of calendar time (clocks went forward).
    assert [o1[f"{s}_s"] for s in calc.STAGES] == [3.5 * 3600, 2 * 3600, 3.5 * 3600, 17.5 * 3600]
    assert o1["lead_s"] == 26.5 * 3600 == sum(o1[f"{s}_s"] for s in calc.STAGES)
    # Issued 22:30 UTC on the 29th = 00:30 CEST on the 30th: that is the day it counts for in Stuttgart.
    assert o1["completed_day"] == pd.Timestamp("2026-03-30")


def test_lead_time_only_over_complete_orders_in_each_plants_window(enriched):
    done = calc.completed(enriched, K.WINDOWS)
    # O6 completes 02:00 UTC on 1 April, still the 31st in Detroit: inside Detroit's window.
    assert sorted(done["order_id"]) == ["O1", "O2", "O3", "O6"]
    by_plant = calc.stage_summary(done).set_index("plant_id")
    # Stuttgart: waiting (12600 + 7200 + 1800) / 3, queue (7200 + 3600 + 9000) / 3, production
    # (12600 + 14400 + 7200) / 3, dispatch (63000 + 75600 + 14400) / 3; lead (95400 + 100800 + 32400) / 3.
    assert by_plant.loc["STR", [f"{s}_s" for s in calc.STAGES]].tolist() == [7200, 6600, 11400, 51000]
    assert by_plant.loc["STR", "lead_s"] == 76200 == 7200 + 6600 + 11400 + 51000
    assert by_plant.loc["DET", [f"{s}_s" for s in calc.STAGES]].tolist() == [7200, 7200, 14400, 79200]
    assert by_plant.loc["DET", "orders"] == 1
    # MTO: O1 95400, O3 32400, O6 108000 -> 78600 s (21 h 50 min); MTS: O2 100800 s (1 d 4 h).
    assert calc.lead_by_kind(done) == {"MTO": 78600.0, "MTS": 100800.0}


def test_open_orders_are_wip_with_their_stage_never_averaged(enriched):
    wip = calc.wip(enriched, AS_OF).set_index("order_id")
    assert wip["stage"].to_dict() == {"O4": "queue", "O5": "production", "O7": "waiting"}
    assert wip.loc["O4", "hold_reason"] == "material"
    assert enriched.set_index("order_id").loc[["O4", "O5", "O7"], "lead_s"].isna().all()
    # A day earlier (22:00 UTC on the 30th) O2 had shipped only its first 60 units, O3 was shipped (16:00), and
    # Detroit's O6 had just finished (04:00 UTC on the 31st).
    earlier = {p: t - pd.Timedelta(days=1) for p, t in AS_OF.items()}
    before = calc.wip(enriched, earlier).set_index("order_id")["stage"].to_dict()
    assert before == {"O2": "dispatch", "O5": "production", "O6": "dispatch"}


def test_late_and_at_risk(enriched):
    risky = calc.late_and_at_risk(calc.wip(enriched, AS_OF), TODAY, at_risk_days=2)
    # O5 was promised on the 30th and is still in production; O7 is promised on 2 April and not released.
    assert risky[["order_id", "risk", "days_left"]].values.tolist() == [["O5", "late", -1], ["O7", "at risk", 2]]


def test_otif_in_the_plants_zone_with_partials_a_reversal_and_pending(enriched):
    status = calc.otif_status(calc.promised_in(enriched, K.WINDOWS, K.ZONES), TODAY).set_index("order_id")
    assert status["status"].to_dict() == {
        "O1": "late",  # issued 00:30 CEST on the 30th, promised the 29th (by UTC date it would look on time)
        "O2": "on time, in full",  # 60 + 40 in two partial deliveries, the last on the promised day
        "O3": "short",  # 50 shipped, 10 reversed: 40 < 49
        "O5": "pending",  # nothing shipped yet: left out of the ratio, counted apart
        "O6": "on time, in full",  # 22:00 EDT on its promised day (1 April by UTC date)
    }
    s = calc.otif_summary(status)
    assert (s["counted"], s["otif"], s["on_time"], s["in_full"], s["pending"]) == (4, 2, 3, 3, 1)
    assert s["ratio"] == 0.5
    stuttgart = calc.otif_summary(status[status["plant_id"] == "STR"])
    assert (stuttgart["otif"], stuttgart["counted"], stuttgart["pending"]) == (1, 3, 1)


def test_tolerance_and_partial_before_the_promise():
    f = K.facts().set_index("order_id")
    f.loc["O3", "shipped"] = 49.0  # 50 less 2 % is 49: in full
    e = calc.enrich(f.reset_index(), K.ZONES, TOL)
    assert e.set_index("order_id").loc["O3", "in_full"]
    assert not calc.enrich(f.reset_index(), K.ZONES, 1.0).set_index("order_id").loc["O3", "in_full"]
    # O2 with only its first 60 shipped and 40 still open is pending until its promised day has passed.
    f = K.facts().set_index("order_id")
    f.loc["O2", ["shipped", "open_rows", "issues"]] = [60.0, 1, 1]
    f.loc["O2", "last_issue"] = pd.Timestamp("2026-03-30 15:00Z")
    e = calc.enrich(f.reset_index(), K.ZONES, TOL).set_index("order_id").loc[["O2"]].reset_index()
    assert calc.otif_status(e, {"STR": date(2026, 3, 31)})["status"].tolist() == ["pending"]
    assert calc.otif_status(e, {"STR": date(2026, 4, 1)})["status"].tolist() == ["late and short"]


def test_otif_per_plant_local_week(enriched):
    wide = {p: (s - pd.Timedelta(days=7), e) for p, (s, e) in K.WINDOWS.items()}
    weeks = calc.otif_weekly(calc.otif_status(calc.promised_in(enriched, wide, K.ZONES), TODAY))
    # Sunday 29 March closes the week of Monday the 23rd; O2, O3, O5 and O6 fall in the week of the 30th.
    assert weeks.astype({"week": str}).values.tolist() == [
        ["DET", "2026-03-30", 1, 1, 0, 1.0],
        ["STR", "2026-03-23", 1, 0, 0, 0.0],
        ["STR", "2026-03-30", 2, 1, 1, 0.5],
    ]


def test_lead_time_bands():
    done = calc.completed(calc.enrich(K.facts(), K.ZONES, TOL), K.WINDOWS)
    b = calc.bands(done, delayed_days=1.1, critical_days=1.2).set_index("order_id")["band"].to_dict()
    # 1.1 d = 26.4 h, 1.2 d = 28.8 h: O3 (9 h) on time; O1 (26.5 h) and O2 (28 h) delayed; O6 (30 h) critical.
    assert b == {"O1": "delayed", "O2": "delayed", "O3": "on time", "O6": "critical"}


def test_trace_shows_each_stage_and_the_machines():
    f = K.frames()
    order = f["production_order"].set_index("order_id").loc["O1"]
    t = calc.trace(order, f["production_order_run"][f["production_order_run"].order_id == "O1"],
                   f["delivery"][f["delivery"].order_id == "O1"])  # fmt: skip
    assert t[["what", "kind", "seconds"]].values.tolist() == [
        ["Waiting", "stage", 12600.0],
        ["Queue", "stage", 7200.0],
        ["Production", "stage", 12600.0],
        ["Dispatch", "stage", 63000.0],
        ["STR-L1-M1", "machine", 7200.0],
        ["STR-L1-M2", "machine", 7200.0],
    ]


def test_facts_from_sql_match_the_hand_built_ones_on_both_engines(any_engine):
    K.load_orders(any_engine)
    got = queries.order_facts(any_engine, *K.WINDOWS["STR"])
    want = K.facts()
    assert got["order_id"].tolist() == sorted(want["order_id"])
    g, w = got.set_index("order_id"), want.set_index("order_id")
    for col in ("shipped", "issues", "open_rows", "qty_ordered", "kind", "line_id"):
        assert g[col].tolist() == w.loc[g.index, col].tolist(), col
    assert pd.to_datetime(g["last_issue"], utc=True).equals(pd.to_datetime(w.loc[g.index, "last_issue"], utc=True))
    # Through SQL the known answers hold: OTIF 2 of 4 with one pending, MTO 78600 s, MTS 100800 s.
    e = calc.enrich(got, K.ZONES, TOL)
    s = calc.otif_summary(calc.otif_status(calc.promised_in(e, K.WINDOWS, K.ZONES), TODAY))
    assert (s["otif"], s["counted"], s["pending"]) == (2, 4, 1)
    assert calc.lead_by_kind(calc.completed(e, K.WINDOWS)) == {"MTO": 78600.0, "MTS": 100800.0}
    only = queries.order_facts(any_engine, *K.WINDOWS["STR"], plants=("DET",))
    assert only["order_id"].tolist() == ["O6", "O7"]
    assert queries.order_facts(any_engine, *K.WINDOWS["STR"], plants=()).empty


def test_a_reversal_is_a_negative_row_and_a_resent_batch_changes_nothing(any_engine):
    from dashboard import ingest

    K.load_orders(any_engine)
    with any_engine.begin() as conn:
        assert ingest.upsert(conn, "delivery", K.frames()["delivery"]) == 0
        with pytest.raises(ingest.BatchError, match="delivery"):
            bad = pd.DataFrame([("O4", 9, date(2026, 4, 1), -5.0, None)], columns=K.frames()["delivery"].columns)
            ingest.upsert(conn, "delivery", bad.astype({"goods_issue_at": "datetime64[ns, UTC]"}))


def test_search_and_trace_are_scoped(any_engine):
    K.load_orders(any_engine)
    assert queries.order_search(any_engine, "ford")["order_id"].tolist() == ["O7", "O6"]
    assert queries.order_search(any_engine, "ford", ("STR",)).empty
    assert queries.order_search(any_engine, "%").empty  # a literal percent sign, not a wildcard
    t = queries.order_trace(any_engine, "O1", ("STR",))
    assert t["runs"]["machine_id"].tolist() == ["STR-L1-M1", "STR-L1-M2"]
    assert t["deliveries"]["qty"].tolist() == [100.0]
    assert queries.order_trace(any_engine, "O6", ("STR",))["order"].empty
    assert math.isclose(queries.order_trace(any_engine, "O6")["order"].iloc[0]["qty_ordered"], 10.0)
