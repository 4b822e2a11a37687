"""OEE: trend against target, A/P/Q by group with drill-down, loss waterfall, downtime Pareto, machine x day heatmap."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

from dashboard import analytics, components, data, exports, figures_oee, viewstate, xlsx

dash.register_page(__name__, path="/oee", name="OEE", title="OEE · Plant dashboards")

CHARTS = [
    ("oee-trend", "OEE trend"),
    ("oee-groups", "Availability, performance and quality"),
    ("oee-waterfall", "Where planned time went"),
    ("oee-pareto", "Downtime by reason"),
    ("oee-heatmap", "OEE per machine and day"),
]


def layout(**_query: str) -> html.Div:
    heights = {"oee-trend": "380px", "oee-heatmap": "auto"}
    panels = {cid: components.panel(cid, title, "oee-csv", height=heights.get(cid, "360px")) for cid, title in CHARTS}
    return html.Div(
        [
            html.Div(
                [html.H2("OEE", className="mb-0"), html.Small(id="oee-subtitle", className="text-muted")],
                className="mb-3",
            ),
            html.Div(id="oee-alert"),
            dbc.Row(dbc.Col(panels["oee-trend"]), className="g-3 mb-3"),
            dbc.Row(
                [dbc.Col(panels["oee-groups"], lg=7), dbc.Col(panels["oee-waterfall"], lg=5)], className="g-3 mb-3"
            ),
            dbc.Row([dbc.Col(panels["oee-pareto"], lg=5), dbc.Col(panels["oee-heatmap"], lg=7)], className="g-3 mb-3"),
            dcc.Download(id="oee-download"),
            dcc.Download(id="oee-xlsx-download"),
        ]
    )


@callback(
    Output("oee-trend", "figure"),
    Output("oee-groups", "figure"),
    Output("oee-waterfall", "figure"),
    Output("oee-pareto", "figure"),
    Output("oee-heatmap", "figure"),
    Output("oee-subtitle", "children"),
    Output("oee-alert", "children"),
    Input("view", "data"),
    Input("tick", "data"),
)
def refresh(view_data, _tick):  # noqa: ANN001, ANN201 - Dash callback
    if view_data is None:
        return (dash.no_update,) * 7
    view, at = viewstate.from_store(view_data), analytics.now()
    target = data.settings().oee_target
    names = analytics.group_names(view.group)
    try:
        what = analytics.describe(view)
        frame, bucket, tz = analytics.trend(view, at)
        first = analytics.on_trend_axis(analytics.data_from(view, at), bucket, tz)
        figs = (
            figures_oee.trend(frame, bucket, tz, view.group, names, target, what, first),
            figures_oee.apq(analytics.group_totals(view, at), view.group, names, what),
            figures_oee.waterfall(analytics.totals(analytics.per_plant(view, at))),
            figures_oee.pareto(analytics.pareto(view, at), what),
            figures_oee.heatmap(
                analytics.heatmap(view, at), analytics.group_names("machine"), what, analytics.machine_first_days(view)
            ),
        )
    except data.TooSlow:
        return (*[dash.no_update] * 6, components.took_too_long())
    except data.UNAVAILABLE:
        return (*[dash.no_update] * 6, components.database_away())
    sub = f"{analytics.range_note(view, at)} · by {view.group} · times in {tz} · as of {at:%H:%M:%S} UTC"
    return (*figs, sub, None)


@callback(
    Output("url", "hash", allow_duplicate=True),
    Input("oee-groups", "clickData"),
    State("view", "data"),
    prevent_initial_call=True,
)
def drill_down(click, view_data):  # noqa: ANN001, ANN201
    """Click a plant to see its lines, a line to see its machines."""
    if not click or not view_data:
        return dash.no_update
    view = viewstate.from_store(view_data)
    key = click["points"][0].get("customdata")
    if view.group == "plant":
        view = viewstate.with_changes(view, plants=(key,), lines=(), machines=(), group="line")
    elif view.group == "line":
        view = viewstate.with_changes(view, lines=(key,), machines=(), group="machine")
    else:
        return dash.no_update
    return view.query().replace("?", "#", 1)


@callback(
    Output("oee-download", "data"),
    Input({"type": "oee-csv", "chart": ALL}, "n_clicks"),
    State("view", "data"),
    prevent_initial_call=True,
)
def download(clicks, view_data):  # noqa: ANN001, ANN201
    return exports.download(ctx.triggered_id, view_data) if any(clicks) else dash.no_update


@callback(
    Output("oee-xlsx-download", "data"),
    Input({"type": "oee-xlsx", "chart": ALL}, "n_clicks"),
    State("view", "data"),
    prevent_initial_call=True,
)
def download_xlsx(clicks, view_data):  # noqa: ANN001, ANN201
    return xlsx.download(ctx.triggered_id, view_data) if any(clicks) else dash.no_update
