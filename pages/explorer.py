"""Sensor explorer: months of 1 Hz data, re-read and reduced on the server for every zoom, with no per-session state."""

from __future__ import annotations

import re
from datetime import timedelta

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, Patch, State, callback, clientside_callback, dcc, html

from dashboard import cache, data, figures_explorer

dash.register_page(__name__, path="/explorer", name="Explorer", title="Sensor explorer · Plant dashboards")
RANGES = {
    "6h": ("6 hours", timedelta(hours=6)),
    "24h": ("24 hours", timedelta(hours=24)),
    "7d": ("7 days", timedelta(days=7)),
    "30d": ("30 days", timedelta(days=30)),
    "1y": ("1 year", timedelta(days=365)),
}
MAX_SENSORS = 8  # rows of one chart: more than any machine here has, and a bound on one callback's reading
_RANGE_KEY = re.compile(r"^xaxis\d*\.range\[(0|1)\]$")


def layout(**_query: str) -> html.Div:
    controls = dbc.Row(
        [
            dbc.Col(dcc.Dropdown(id="exp-machine", placeholder="Machine", clearable=False), md=3),
            dbc.Col(dcc.Dropdown(id="exp-sensors", multi=True, placeholder="Sensors"), md=4),
            dbc.Col(
                dbc.RadioItems(
                    id="exp-range",
                    options=[{"label": v[0], "value": k} for k, v in RANGES.items()],
                    value="7d",
                    inline=True,
                ),
                md="auto",
            ),
            dbc.Col(dbc.Button("Reset zoom", id="exp-reset", size="sm", color="secondary", outline=True), md="auto"),
        ],
        className="g-2 align-items-center mb-2",
    )
    return html.Div(
        [
            html.H2("Sensor explorer", className="mb-0"),
            html.Small(
                "Drag to zoom: the visible window is re-read and reduced to the chart's width on the server.",
                className="text-muted",
            ),
            dbc.Card(
                dbc.CardBody(
                    [
                        controls,
                        html.Div(id="exp-info", className="small text-muted mb-1"),
                        dcc.Loading(
                            dcc.Graph(id="exp-graph", config={"displaylogo": False}), type="dot", delay_show=500
                        ),
                    ]
                ),
                className="mt-2",
            ),
            dcc.Store(id="exp-width"),
        ]
    )


# The chart's width, measured once when the page opens. It used to follow the range buttons too, which re-ran the
# machine and sensor choices and drew the chart twice for every click.
clientside_callback(
    "function(_) { const g = document.querySelector('#exp-graph'); return Math.max(400, (g ? g.clientWidth : window.innerWidth) - 100); }",
    Output("exp-width", "data"),
    Input("exp-reset", "id"),
)


@callback(
    Output("exp-machine", "options"),
    Output("exp-machine", "value"),
    Input("exp-width", "data"),
    State("exp-machine", "value"),
)
def machines(_width, current):  # noqa: ANN001, ANN201
    s = data.sensors()
    options = [{"label": m, "value": m} for m in s["machine_id"].unique()]
    return options, current or (options[0]["value"] if options else None)


@callback(Output("exp-sensors", "options"), Output("exp-sensors", "value"), Input("exp-machine", "value"))
def sensor_choices(machine):  # noqa: ANN001, ANN201
    s = data.sensors()
    mine = s[s["machine_id"] == machine]
    return [{"label": f"{r.kind} ({r.unit})", "value": int(r.sensor_id)} for r in mine.itertuples()], [
        int(v) for v in mine["sensor_id"].head(2)
    ]


def _chosen(sensor_ids: object) -> tuple[list[dict], str]:
    """The sensors asked for, as the page offers them: one machine's, at most MAX_SENSORS; and a note when some
    were left out, so that a crafted request cannot make one callback read a whole plant's history."""
    s = data.sensors().set_index("sensor_id", drop=False)
    asked = list(dict.fromkeys(v for v in sensor_ids if isinstance(v, int))) if isinstance(sensor_ids, list) else []
    known = [i for i in asked if i in s.index]
    if not known:
        return [], ""
    machine = s.at[known[0], "machine_id"]
    mine = [i for i in known if s.at[i, "machine_id"] == machine][:MAX_SENSORS]
    note = ""
    if len(mine) < len(asked):
        note = f"The explorer draws up to {MAX_SENSORS} sensors of one machine; {len(asked) - len(mine)} left out. "
    return s.loc[mine].to_dict("records"), note


def _width(width: object) -> int:
    """The chart's width in pixels as the browser reported it, kept to what a screen can have."""
    try:
        return min(max(int(width), 200), 8000)
    except (TypeError, ValueError):
        return 1200


def _full_window(range_key: str):  # noqa: ANN202
    end = cache.live_now(data.settings().refresh_seconds)
    return end - RANGES.get(range_key, RANGES["7d"])[1], end


TOO_SLOW = "Reading this window took too long and was stopped; a shorter window answers faster."


@callback(
    Output("exp-graph", "figure"),
    Output("exp-info", "children"),
    Input("exp-sensors", "value"),
    Input("exp-range", "value"),
    Input("exp-reset", "n_clicks"),
    State("exp-width", "data"),
)
def draw(sensor_ids, range_key, _reset, width):  # noqa: ANN001, ANN201
    sensors, note = _chosen(sensor_ids)
    start, end = _full_window(range_key)
    tz = sensors[0]["tz"] if sensors else "UTC"
    try:
        series = [data.sensor_series(int(s["sensor_id"]), start, end, _width(width)) for s in sensors]
    except data.TooSlow:
        return dash.no_update, TOO_SLOW
    revision = f"{range_key}|{sensor_ids}|{_reset}"
    return figures_explorer.figure(sensors, series, tz, (start, end), revision), note + _info(series)


@callback(
    Output("exp-graph", "figure", allow_duplicate=True),
    Output("exp-info", "children", allow_duplicate=True),
    Input("exp-graph", "relayoutData"),
    State("exp-sensors", "value"),
    State("exp-range", "value"),
    State("exp-width", "data"),
    prevent_initial_call=True,
)
def zoom(relayout, sensor_ids, range_key, width):  # noqa: ANN001, ANN201
    """Everything a zoom needs comes with the request: the window, the sensors, the width."""
    sensors, note = _chosen(sensor_ids)
    window = _window(relayout or {}, sensors[0]["tz"] if sensors else "UTC", *_full_window(range_key))
    if not sensors or window is None:
        return dash.no_update, dash.no_update
    start, end = window
    p = Patch()
    series = []
    for i, s in enumerate(sensors):
        try:
            ser = data.sensor_series(int(s["sensor_id"]), start, end, _width(width))
        except data.TooSlow:
            return dash.no_update, TOO_SLOW
        series.append(ser)
        values = figures_explorer.trace_values(ser, s["tz"])
        figures_explorer.patch(p, i * figures_explorer.TRACES_PER_SENSOR, values, s["kind"])
    return p, note + _info(series)


def _window(relayout: dict, tz: str, full_start, full_end):  # noqa: ANN001, ANN202
    """The UTC window a relayout asks for; the full range on reset; None when it is not a zoom."""
    if any(k.endswith(".autorange") and v for k, v in relayout.items()):
        return full_start, full_end
    ends = {}
    for k, v in relayout.items():
        if m := _RANGE_KEY.match(k):
            ends[m.group(1)] = v
        elif k.endswith(".range") and isinstance(v, list) and len(v) == 2:
            ends = {"0": v[0], "1": v[1]}
    if len(ends) != 2:
        return None
    try:
        a, b = (
            pd.Timestamp(str(ends[i])[:32])
            .tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
            .tz_convert("UTC")
            .to_pydatetime()
            for i in ("0", "1")
        )
    except (ValueError, TypeError):
        return None
    a, b = max(min(a, b), full_start), min(max(a, b), full_end)
    return (a, b) if b > a else None


def _info(series: list) -> str:
    if not series:
        return ""
    total = sum(s.points_in_window for s in series)
    drawn = sum(len(s.x) for s in series)
    return f"{drawn:,} points drawn for {total:,} readings in the window · " + " · ".join(s.label for s in series)
