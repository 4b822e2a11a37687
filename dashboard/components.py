"""Small layout pieces every page uses: a chart panel with its CSV and XLSX buttons, and the 'database away' notice."""

from __future__ import annotations

from datetime import UTC, datetime

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.development.base_component import Component


def panel(chart_id: str, title: str, csv_type: str, body: Component | None = None, height: str = "360px") -> dbc.Card:
    """A card with a title, CSV and XLSX buttons (ids {'type': csv_type or its '-xlsx' twin, 'chart': chart_id})
    and a chart or ``body``."""
    head = html.Div(
        [
            html.H5(title, className="mb-0 me-auto"),
            dbc.Button(
                "CSV",
                id={"type": csv_type, "chart": chart_id},
                size="sm",
                color="secondary",
                outline=True,
                title="Download this chart's data as CSV",
            ),
            dbc.Button(
                "XLSX",
                id={"type": csv_type.replace("-csv", "-xlsx"), "chart": chart_id},
                size="sm",
                color="secondary",
                outline=True,
                className="ms-1",
                title="Download this chart's data as an Excel workbook",
            ),
        ],
        className="d-flex justify-content-between align-items-center mb-1",
    )
    if body is None:
        graph = dcc.Graph(id=chart_id, style={"height": height}, config={"displaylogo": False})
        body = dcc.Loading(graph, type="dot", delay_show=400)  # fast refreshes do not flash a spinner
    return dbc.Card(dbc.CardBody([head, body]), className="h-100")


def took_too_long() -> dbc.Alert:
    return dbc.Alert(
        "This view took too long to compute and was stopped; showing the last data. A shorter range or fewer "
        "machines answers faster.",
        color="warning",
    )


def behind(as_of: datetime | None) -> dbc.Alert | None:
    """'As of' the standby's time when pages read from one that lags; nothing when it is in step."""
    if as_of is None:
        return None
    return dbc.Alert(
        f"Showing data as of {as_of.astimezone(UTC):%H:%M:%S} UTC: the database copy these pages read is behind.",
        color="info",
    )


def database_away() -> dbc.Alert:
    return dbc.Alert(
        "The database is not answering; showing the last data and retrying every few seconds.", color="warning"
    )
