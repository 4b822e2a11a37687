"""Executive overview: today's OEE per plant and the output trend, refreshed live."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import sqlalchemy as sa
from dash import Input, Output, State, callback, dcc, html

from dashboard import data, figures, fmt, theme

dash.register_page(__name__, path="/", name="Overview", title="Overview · Plant dashboards")

BUCKET_S = 900


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.H2("Plant overview", className="mb-0"),
                    html.Small("Today so far, in each plant's own time zone. ", className="text-muted"),
                    html.Small(id="ov-updated", className="text-muted"),
                ],
                className="mb-3",
            ),
            html.Div(id="ov-alert"),
            dcc.Loading(dbc.Row(id="ov-cards", className="g-3 mb-3"), type="dot"),
            dbc.Card(dbc.CardBody(dcc.Loading(dcc.Graph(id="ov-output", style={"height": "420px"})))),
            dcc.Interval(id="ov-interval", interval=data.settings().refresh_seconds * 1000),
        ]
    )


def _card(row: dict, colour: str) -> dbc.Col:
    if not row["planned_s"] > 0:
        body = [
            html.Div(row["name"], className="fw-semibold", style={"color": colour}),
            html.Div("–", className="display-6", id={"type": "ov-oee", "plant": row["plant_id"]}),
            html.Div(f"No production planned yet today ({row['tz']})", className="text-muted small"),
        ]
        return dbc.Col(dbc.Card(dbc.CardBody(body), style={"borderTop": f"4px solid {colour}"}), md=_width())
    factors = f"A {fmt.pct(row['availability'])} · P {fmt.pct(row['performance'])} · Q {fmt.pct(row['quality'])}"
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(row["name"], className="fw-semibold", style={"color": colour}),
                    html.Div(
                        fmt.pct(row["oee"]), className="display-6", id={"type": "ov-oee", "plant": row["plant_id"]}
                    ),
                    html.Div(f"OEE today ({row['tz']})", className="text-muted small"),
                    html.Div(factors, className="small mt-1"),
                    html.Div(f"{fmt.count(row['good_count'])} good units", className="small"),
                ]
            ),
            style={"borderTop": f"4px solid {colour}"},
        ),
        md=_width(),
    )


def _width() -> int:
    return 12 // max(1, min(4, len(data.plants())))


@callback(
    Output("ov-cards", "children"),
    Output("ov-output", "figure"),
    Output("ov-alert", "children"),
    Output("ov-updated", "children"),
    Input("ov-interval", "n_intervals"),
    State("ov-updated", "children"),
)
def refresh(_n: int | None, last_updated: str | None):  # noqa: ANN201 - Dash callback
    try:
        plants = data.plants()
        now, today, trend = data.live_overview(bucket_s=BUCKET_S)
    except sa.exc.OperationalError:
        since = f" Showing data from {last_updated}." if last_updated else ""
        alert = dbc.Alert(f"The database is not answering; retrying every few seconds.{since}", color="warning")
        return dash.no_update, dash.no_update, alert, dash.no_update
    ids = plants["plant_id"].tolist()
    cards = [_card(r, theme.plant_colour(ids, r["plant_id"])) for r in today.to_dict("records")]
    return cards, figures.output_trend(trend, plants, BUCKET_S), None, f"Updated {now:%H:%M:%S} UTC."
