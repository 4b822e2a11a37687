"""The orders page's KPI cards, and the overview's OTIF card: value, change against the previous period, note."""

from __future__ import annotations

from datetime import datetime

import dash_bootstrap_components as dbc
import pandas as pd

from dashboard import cards, figures, fmt
from dashboard.orders import report
from dashboard.viewstate import View


def page_cards(now: dict, before: dict) -> dbc.Row:
    """OTIF, mean lead time MTO and MTS, late orders and work in progress."""
    pending = f"{now['otif']:,} of {now['counted']:,} order lines; {now['pending']:,} pending (not in the ratio)"
    return dbc.Row(
        [
            cards.card(
                "ord-kpi-otif", "OTIF", fmt.pct(now["ratio"]), cards.delta(now["ratio"], before["ratio"], "ratio"),
                note=pending,
            ),
            cards.card(
                "ord-kpi-lead-mto", "Lead time, make to order", fmt.duration(now["lead_mto_s"]),
                cards.delta(now["lead_mto_s"], before["lead_mto_s"], "amount", higher_is_better=False),
                note="mean per completed order, created → last goods issue",
            ),
            cards.card(
                "ord-kpi-lead-mts", "Lead time, make to stock", fmt.duration(now["lead_mts_s"]),
                cards.delta(now["lead_mts_s"], before["lead_mts_s"], "amount", higher_is_better=False),
                note=f"{now['completed']:,} orders completed in this range (both kinds)",
            ),
            cards.card(
                "ord-kpi-late", "Late orders", f"{now['late']:,}",
                cards.delta(now["late"], before["late"], "amount", higher_is_better=False),
                note=f"open past their promised date; {now['at_risk']:,} more at risk", alert=now["late"] > 0,
            ),
            cards.card(
                "ord-kpi-wip", "Work in progress", f"{now['wip']:,}",
                cards.delta(now["wip"], before["wip"], "amount", higher_is_better=False),
                note="open orders, not averaged into lead time",
            ),
        ],
        className="g-3 mb-3",
    )  # fmt: skip


def overview_otif(view: View, at: datetime) -> dbc.Col:
    """The executive overview's OTIF card, with its change and a 14-day sparkline (per promised date)."""
    orders = report.load(view, at)
    now, before = report.otif(orders), report.otif(report.load(view, at, previous=True))
    daily = report.daily_otif(orders)
    spark = figures.sparkline(pd.to_datetime(daily["day"]), daily["ratio"], "#54a24b") if len(daily) else None
    return cards.card(
        "ov-kpi-otif",
        "On time in full",
        fmt.pct(now["ratio"]),
        cards.delta(now["ratio"], before["ratio"], "ratio"),
        spark,
        note=f"{now['counted']:,} order lines; {now['pending']:,} pending",
    )
