"""Wall screens: dark, large, no controls; rotates through views and plants, refreshes itself, says when data is stale."""

from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, Patch, State, callback, clientside_callback, dcc, html

from dashboard import data, wall
from dashboard.alerts import view as alert_view

dash.register_page(__name__, path="/wall", name="Wall", title="Wall · Plant dashboards")
PARAMS = ("plant", "views", "rotate", "refresh")


def layout(**query: str) -> html.Div:
    params = {k: str(v)[:500] for k, v in query.items() if k in PARAMS}
    return html.Div(
        [
            dcc.Store(id="wall-params", data=params),
            dcc.Store(id="wall-config"),
            dcc.Store(id="wall-slide", data=0),
            dcc.Store(id="wall-ok", data={"seq": 0}),
            dcc.Store(id="wall-shown"),
            dcc.Interval(id="wall-tick", interval=15_000),
            dcc.Interval(id="wall-rotate", interval=30_000),
            dcc.Interval(id="wall-clock", interval=1_000),
            html.Div(
                [
                    html.Div(
                        [html.Div(id="wall-plant", className="wall-plant"), html.Div(id="wall-view")],
                        className="wall-title",
                    ),
                    html.Div(
                        [
                            html.Div(id="wall-clock-text", className="wall-clock"),
                            html.Div(id="wall-updated", className="wall-updated"),
                        ],
                        className="wall-time",
                    ),
                ],
                className="wall-header",
            ),
            # A way back for a person who opened the wall from the menu: shown on mouse movement or focus, and
            # Esc follows it; an unattended kiosk (no mouse, no keys) never shows it, and its URL stays clean.
            html.A(
                "← Exit wall", href="/", id="wall-exit", className="wall-exit", title="Back to the dashboards (Esc)"
            ),
            html.Div(id="wall-stale", className="wall-stale", style={"display": "none"}),
            html.Div(id="wall-alerts", className="wall-alerts", style={"display": "none"}),
            html.Div(id="wall-notice", className="wall-notice"),
            html.Div(id="wall-numbers", className="wall-numbers"),
            dcc.Graph(id="wall-graph", className="wall-graph", config={"staticPlot": True, "displayModeBar": False}),
        ],
        className="wall",
        **{"data-bs-theme": "dark"},
    )


@callback(
    Output("wall-config", "data"),
    Output("wall-tick", "interval"),
    Output("wall-rotate", "interval"),
    Output("wall-notice", "children"),
    Input("wall-params", "data"),
    Input("wall-tick", "n_intervals"),
    State("wall-config", "data"),
)
def setup(params, _n, config):  # noqa: ANN001, ANN201 - Dash callback
    """Read the kiosk URL once; if the database is away at start, try again on every tick."""
    if config:
        return (dash.no_update,) * 4
    try:
        cfg = wall.parse(params or {}, data.plants(), data.settings().wall_refresh_seconds)
    except data.UNAVAILABLE:
        return (dash.no_update,) * 3, "Waiting for the database…"
    if not cfg.slides:
        return dash.no_update, dash.no_update, dash.no_update, "No plants to show yet."
    store = {"slides": cfg.slides, "refresh": cfg.refresh_s, "rotate": cfg.rotate_s}
    return store, cfg.refresh_s * 1000, cfg.rotate_s * 1000, " ".join(cfg.notices) or None


clientside_callback(
    "function(n, config) { return config ? (n || 0) % config.slides.length : 0; }",
    Output("wall-slide", "data"),
    Input("wall-rotate", "n_intervals"),
    State("wall-config", "data"),
)


@callback(
    Output("wall-plant", "children"),
    Output("wall-view", "children"),
    Output("wall-numbers", "children"),
    Output("wall-graph", "figure"),
    Output("wall-graph", "style"),
    Output("wall-updated", "children"),
    Output("wall-ok", "data"),
    Output("wall-shown", "data"),
    Input("wall-tick", "n_intervals"),
    Input("wall-slide", "data"),
    Input("wall-config", "data"),
    State("wall-shown", "data"),
    State("wall-ok", "data"),
)
def update(_n, slide, config, shown, ok):  # noqa: ANN001, ANN201 - Dash callback
    if not config:
        return (dash.no_update,) * 8
    view, plant_id, tz = config["slides"][(slide or 0) % len(config["slides"])]
    at = wall.now(config["refresh"])
    try:
        content = wall.slide(view, plant_id, at, config["refresh"])
    except (data.UNAVAILABLE, data.TooSlow):  # keep what is on screen; the stale banner says how old it is
        return (dash.no_update,) * 8
    key = f"{view}|{plant_id}"
    fig = content["figure"]
    if fig is None:
        body, figure, style = _stock_table(content["rows"]), dash.no_update, {"display": "none"}
    else:
        body, style = _numbers(dict(content["numbers"])), {}
        figure = _patch(fig) if key == shown and len(fig["data"]) == 1 else fig
    seq = (ok or {}).get("seq", 0) + 1
    as_of = data.behind()  # reading from a standby that lags: say the standby's time, not ours
    local = pd.Timestamp(as_of or at).tz_convert(tz)
    zone = wall.zone_name(local)
    updated = f"{'as of' if as_of else 'updated'} {local:%H:%M:%S} {zone}"
    # The clock names its zone the same way as this stamp (the browser's names differ: 'GMT-5' against 'EST').
    return content["name"], wall.VIEWS[view], body, figure, style, updated, {"seq": seq, "tz": tz, "zone": zone}, key


@callback(
    Output("wall-alerts", "children"),
    Output("wall-alerts", "style"),
    Input("wall-tick", "n_intervals"),
    Input("wall-slide", "data"),
    Input("wall-config", "data"),
)
def alert_band(_n, slide, config):  # noqa: ANN001, ANN201 - Dash callback
    """A red band with the firing alerts of the plant on screen; gone when none fire."""
    if not config:
        return dash.no_update, dash.no_update
    _view, plant_id, _tz = config["slides"][(slide or 0) % len(config["slides"])]
    try:
        lines = alert_view.wall_band(plant_id)
    except data.UNAVAILABLE:
        return dash.no_update, dash.no_update
    if not lines:
        return None, {"display": "none"}
    head = html.Div(f"{len(lines)} alert{'s' if len(lines) > 1 else ''} firing", className="wall-alerts-head")
    more = [html.Div(f"and {len(lines) - 4} more", className="wall-alerts-more")] if len(lines) > 4 else []
    return [head, *[html.Div(t, className="wall-alert") for t in lines[:4]], *more], {}


def _patch(fig: dict) -> Patch:
    """Only the trace's values travel: the chart is not redrawn from scratch on every tick."""
    p, trace = Patch(), fig["data"][0]
    p["data"][0]["x"] = trace["x"]
    p["data"][0]["y"] = trace["y"]
    if getattr(trace, "marker", None) is not None and trace.marker.color is not None:
        p["data"][0]["marker"]["color"] = (
            list(trace.marker.color) if not isinstance(trace.marker.color, str) else trace.marker.color
        )
    return p


def _numbers(numbers: dict) -> list:
    alert = numbers.pop("_below_target", False)
    return [
        html.Div(
            [
                html.Div(
                    v,
                    className="wall-value" + (" wall-bad" if alert and k == "OEE" else ""),
                    id=f"wall-num-{k.split()[0].lower()}",
                ),
                html.Div(k, className="wall-label"),
            ],
            className="wall-number",
        )
        for k, v in numbers.items()
    ]


def _stock_table(rows: list[dict]) -> html.Table:
    head = html.Tr([html.Th("Material"), html.Th("On hand"), html.Th("Cover")])
    body = [
        html.Tr(
            [html.Td(r["Material"]), html.Td(r["On hand"]), html.Td(r["Cover"])],
            className="wall-bad" if r["below"] else None,
        )
        for r in rows
    ]
    table = html.Table([html.Thead(head), html.Tbody(body)], className="wall-table")
    legend = html.Div(
        [html.Span("■ ", className="wall-bad"), "red: at or below its reorder point (order placed or due)"],
        className="wall-legend",
        id="wall-legend",
    )
    return html.Div([table, legend])


# The clock ticks in the browser; the banner appears when no update has arrived for three refresh intervals.
clientside_callback(
    """
    function(n, ok, config) {
        const now = new Date();
        const w = window._wall = window._wall || {seq: -1, t: Date.now()};
        if (ok && ok.seq !== w.seq) { w.seq = ok.seq; w.t = Date.now(); }
        const refresh = (config && config.refresh) || 15;
        const age = (Date.now() - w.t) / 1000;
        const opts = {hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23'};
        if (ok && ok.tz) { opts.timeZone = ok.tz; }  // the plant's wall clock, not the screen's
        // The zone's name comes from the server, so the clock and the "updated" stamp name it alike.
        const clock = now.toLocaleTimeString('en-GB', opts) + (ok && ok.zone ? ' ' + ok.zone : '');
        if (age > 3 * refresh) {
            const mins = Math.floor(age / 60), secs = Math.floor(age % 60);
            const text = 'Data is stale: no update for ' + (mins ? mins + ' min ' : '') + secs + ' s. Retrying…';
            return [clock, {display: 'block'}, text];
        }
        return [clock, {display: 'none'}, ''];
    }
    """,
    Output("wall-clock-text", "children"),
    Output("wall-stale", "style"),
    Output("wall-stale", "children"),
    Input("wall-clock", "n_intervals"),
    State("wall-ok", "data"),
    State("wall-config", "data"),
)
