"""Simulated orders agree with simulated production, arrive as events happen, and have a believable share of
late, short and material-bound orders."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from dashboard import queries_orders as queries
from dashboard import simulator
from dashboard.orders import calc
from dashboard.orders import simulate as order_sim
from dashboard.simulate import Feed

END = pd.Timestamp("2026-03-04 13:37", tz="UTC")


def test_an_orders_output_is_what_its_machine_made_in_that_time(db_engine):
    Feed(db_engine, simulator.topology(5, 2, 6), hf_hours=0, step_s=600, sensors=1).backfill(
        END.floor("D") - pd.Timedelta(days=2), END, progress=False
    )
    with db_engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                """select r.order_id, o.qty_produced, r.qty_good,
                          (select coalesce(sum(p.good_count), 0) from production p where p.machine_id = r.machine_id
                             and p.ts >= r.start_ts and p.ts < coalesce(r.end_ts, 'infinity')) as made
                   from production_order_run r join production_order o using (order_id)"""
            )
        ).all()
        future = conn.execute(
            sa.text(
                """select count(*) from production_order o left join delivery d using (order_id)
                   where greatest(o.created_at, o.released_at, o.actual_start, o.actual_finish, d.goods_issue_at)
                         > :end""",
            ),
            {"end": END},
        ).scalar_one()
    assert len(rows) > 20
    assert all(produced == good == made for _, produced, good, made in rows)
    assert future == 0  # nothing that has not happened yet


def test_shares_of_late_short_and_waiting_for_material():
    topo = simulator.topology(42, 3, 12)
    start, end = END - pd.Timedelta(days=21), END
    r = order_sim.rows(topo, start, end, shifts_from=start)
    d = r["delivery"]
    issued = d[d["goods_issue_at"].notna()]
    last = issued[issued["qty"] > 0].groupby("order_id")["goods_issue_at"].max()
    facts = r["production_order"].set_index("order_id").assign(
        promised_date=d.groupby("order_id")["promised_date"].min(),
        shipped=issued.groupby("order_id")["qty"].sum(),
        last_issue=last,
        issues=issued.groupby("order_id").size(),
        open_rows=d[d["goods_issue_at"].isna()].groupby("order_id").size(),
    )
    facts = facts.fillna({"shipped": 0.0, "issues": 0, "open_rows": 0}).reset_index()
    zones = {p.plant_id: p.tz for p in topo.plants}
    e = calc.enrich(facts[queries.FACT_COLUMNS], zones, 2.0)
    win = {p: (start + pd.Timedelta(days=7), end - pd.Timedelta(days=4)) for p in zones}
    status = calc.otif_status(calc.promised_in(e, win, zones), {p: end.date() for p in zones})
    share = status["status"].value_counts(normalize=True)
    assert len(status) > 300
    assert 0.70 < share["on time, in full"] < 0.97
    assert 0.02 < share["late"] + share.get("late and short", 0) < 0.25
    assert 0.02 < share["short"] + share.get("late and short", 0) < 0.25
    assert share.get("pending", 0) == 0  # four days after their promise every order has shipped
    waiting = calc.wip(e, {p: end for p in zones})
    assert (waiting["hold_reason"] == "material").sum() >= 1
    assert set(waiting["stage"]) == {"waiting", "queue", "production", "dispatch"}
    assert (d["qty"] < 0).sum() >= 1  # a reversal or more
