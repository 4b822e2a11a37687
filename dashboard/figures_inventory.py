"""Figures for the inventory page: on hand against reorder point and safety stock, value by plant, flows."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import theme
from dashboard.figures import base, empty

# Money on axes and labels in one human format: $0, $50k, $1.2M (trailing zeros trimmed, so never "$0.00").
MONEY = "$,.3~s"


def levels(
    frame: pd.DataFrame, plant_ids: list[str], names: dict[str, str], material: str, unit: str, tz: str
) -> go.Figure:
    """On hand per plant over time; each plant's reorder point (dashed) and safety stock (dotted) in its colour."""
    if frame.empty:
        return empty(f"No stock levels recorded for {material} in this range")
    fig = base(
        "inv-levels",
        xaxis_title=f"Time ({tz}) · dashed: reorder point · dotted: safety stock",
        yaxis=dict(title=f"On hand ({unit})", rangemode="tozero"),
    )
    for plant_id, rows in frame.groupby("plant_id", sort=True):
        colour = theme.plant_colour(plant_ids, plant_id)
        x = pd.to_datetime(rows["ts"], utc=True).dt.tz_convert(tz).dt.tz_localize(None)
        name = names.get(plant_id, plant_id)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=rows["on_hand"],
                name=name,
                mode="lines",
                line=dict(color=colour, width=2),
                hovertemplate=f"%{{y:,.0f}} {unit}<extra>{name}</extra>",
            )
        )
        for col, dash, label in (("reorder_point", "dash", "reorder point"), ("safety_stock", "dot", "safety stock")):
            fig.add_trace(
                go.Scatter(
                    x=[x.iloc[0], x.iloc[-1]],
                    y=[rows[col].iloc[0]] * 2,
                    mode="lines",
                    name=f"{name} {label}",
                    line=dict(color=colour, dash=dash, width=1),
                    showlegend=False,
                    hovertemplate=f"{label} %{{y:,.0f}} {unit}<extra>{name}</extra>",
                )
            )
    return fig


def value_by_plant(status: pd.DataFrame, plant_ids: list[str], names: dict[str, str]) -> go.Figure:
    if status.empty:
        return empty("No stock recorded for these plants")
    v = status.groupby("plant_id", as_index=False)["value"].sum()
    fig = base("inv-value", yaxis=dict(title="Inventory value ($)", tickformat=MONEY), showlegend=False)
    fig.add_trace(
        go.Bar(
            x=[names.get(p, p) for p in v["plant_id"]],
            y=v["value"],
            marker_color=[theme.plant_colour(plant_ids, p) for p in v["plant_id"]],
            texttemplate="%{y:" + MONEY + "}",
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}: $%{y:,.0f}<extra></extra>",
        )
    )
    fig.update_layout(hovermode="closest")
    return fig


def flows(frame: pd.DataFrame, tz: str) -> go.Figure:
    """Value consumed against value received per day."""
    if frame.empty:
        return empty("No stock movements in this range")
    fig = base(
        "inv-flows",
        barmode="group",
        xaxis_title=f"Date ({tz})",
        yaxis=dict(title="Value per day ($)", tickformat=MONEY),
    )
    for kind, colour, label in (("consumption", "#e45756", "Consumed"), ("receipt", "#4c78a8", "Received")):
        rows = frame[frame["kind"] == kind]
        fig.add_trace(
            go.Bar(
                x=pd.to_datetime(rows["day"]),
                y=rows["value"],
                name=label,
                marker_color=colour,
                hovertemplate=f"{label} $%{{y:,.0f}}<extra></extra>",
            )
        )
    return fig
