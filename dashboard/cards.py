"""KPI cards: value, change against the previous period, and a sparkline; components only, no I/O."""

from __future__ import annotations

import math

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import dcc, html


def delta(now: float, before: float, kind: str, higher_is_better: bool = True) -> tuple[str, str]:
    """Text and colour class for the change: points for ratios, percent for amounts."""
    if any(v is None or (isinstance(v, float) and (math.isnan(v) or math.isinf(v))) for v in (now, before)):
        return "no previous period to compare", "text-muted"
    if kind == "ratio":
        change, text = (now - before) * 100, f"{abs((now - before) * 100):.1f} pts"
    elif before:
        change = (now - before) / abs(before) * 100
        text = f"{abs(change):.1f} %"
    else:
        return "no previous period to compare", "text-muted"
    if abs(change) < 0.05:
        return "no change", "text-muted"
    arrow = "▲" if change > 0 else "▼"
    good = (change > 0) == higher_is_better
    return f"{arrow} {text}", "text-success" if good else "text-danger"


def card(
    card_id: str,
    title: str,
    value: str,
    change: tuple[str, str],
    spark: go.Figure | None = None,
    note: str | None = None,
    alert: bool = False,
) -> dbc.Col:
    body = [
        html.Div(title, className="kpi-title"),
        html.Div(value, className="kpi-value" + (" text-danger" if alert else ""), id=card_id),
        html.Div(
            [
                html.Span(change[0], className=change[1]),
                html.Span(" vs previous period", className="text-muted") if change[1] != "text-muted" else None,
            ],
            className="kpi-delta",
        ),
    ]
    if note:
        body.append(html.Div(note, className="kpi-note text-muted"))
    if spark is not None:
        body.append(
            dcc.Graph(figure=spark, config={"displayModeBar": False, "staticPlot": True}, className="kpi-spark")
        )
    return dbc.Col(dbc.Card(dbc.CardBody(body), className="kpi-card h-100"), xs=12, sm=6, lg=4, xl=True)
