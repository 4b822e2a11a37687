"""Sensor explorer: months of 1 Hz data, re-read and reduced on the server for every zoom, with no per-session state."""

from __future__ import annotations

import re
from datetime import timedelta

import dash
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import Input, Output, Patch, State, callback, clientside_callback, ctx, dcc, html

from dashboard import cache, data, explorer_url, figures_explorer

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
            dbc.Col(
                dbc.Button(
                    "CSV",
                    id="exp-csv",
                    size="sm",
                    color="secondary",
                    outline=True,
                    title="Download what the chart draws as CSV (the zoomed window, units in the headers)",
                ),
                md="auto",
            ),
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
                            # The chart fills the rest of the screen's height (it used about 60 % of it).
                            dcc.Graph(
                                id="exp-graph",
                                config={"displaylogo": False},
                                style={"height": "calc(100vh - 255px)", "minHeight": "420px"},
                            ),
                            type="dot",
                            delay_show=500,
                        ),
                    ]
                ),
                className="mt-2",
            ),
            dcc.Store(id="exp-width"),
            dcc.Store(id="exp-window"),  # the window drawn now: for the URL and the CSV
            dcc.Download(id="exp-download"),
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
    Output("exp-range", "value"),
    Input("exp-width", "data"),
    State("exp-machine", "value"),
    State("exp-range", "value"),
    State("url", "hash"),
)
def machines(_width, current, range_key, fragment):  # noqa: ANN001, ANN201
    """Open on the machine, span and sensors the link names (#sensor=1,2&span=6h&t0=…&t1=…), else the first."""
    s = data.sensors()
    options = [{"label": m, "value": m} for m in s["machine_id"].unique()]
    link = explorer_url.parse(fragment)
    linked = s[s["sensor_id"].isin(link.sensors)]["machine_id"]
    machine = current or (linked.iloc[0] if len(linked) else (options[0]["value"] if options else None))
    span = link.span if link.span in RANGES and not current else range_key
    return options, machine, span


@callback(
    Output("exp-sensors", "options"),
    Output("exp-sensors", "value"),
    Input("exp-machine", "value"),
    State("url", "hash"),
)
def sensor_choices(machine, fragment):  # noqa: ANN001, ANN201
    s = data.sensors()
    mine = s[s["machine_id"] == machine]
    linked = [v for v in explorer_url.parse(fragment).sensors if v in set(mine["sensor_id"])]
    options = [{"label": f"{r.kind} ({r.unit})", "value": int(r.sensor_id)} for r in mine.itertuples()]
    return options, linked or [int(v) for v in mine["sensor_id"].head(2)]


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
    Output("exp-window", "data"),
    Input("exp-sensors", "value"),
    Input("exp-range", "value"),
    Input("exp-reset", "n_clicks"),
    State("exp-width", "data"),
    State("url", "hash"),
)
def draw(sensor_ids, range_key, _reset, width, fragment):  # noqa: ANN001, ANN201
    sensors, note = _chosen(sensor_ids)
    start, end = _full_window(range_key)
    tz = sensors[0]["tz"] if sensors else "UTC"
    # A link's zoom applies to the sensors and span it was made with; a new choice or "Reset zoom" drops it.
    link = explorer_url.parse(fragment)
    zoomed = (
        ctx.triggered_id != "exp-reset"
        and link.window is not None
        and link.span in (None, range_key)
        and (not link.sensors or sorted(link.sensors) == sorted(s["sensor_id"] for s in sensors))
    )
    window = explorer_url.clamp(link.window, end) if zoomed else None
    a, b = window or (start, end)
    try:
        series = [data.sensor_series(int(s["sensor_id"]), a, b, _width(width)) for s in sensors]
    except data.TooSlow:
        return dash.no_update, TOO_SLOW, dash.no_update
    revision = f"{range_key}|{sensor_ids}|{_reset}"
    fig = figures_explorer.figure(sensors, series, tz, (a, b), revision)
    return fig, note + _info(sensors, series), _store(a, b, window is not None)


@callback(
    Output("exp-graph", "figure", allow_duplicate=True),
    Output("exp-info", "children", allow_duplicate=True),
    Output("exp-window", "data", allow_duplicate=True),
    Input("exp-graph", "relayoutData"),
    State("exp-sensors", "value"),
    State("exp-range", "value"),
    State("exp-width", "data"),
    prevent_initial_call=True,
)
def zoom(relayout, sensor_ids, range_key, width):  # noqa: ANN001, ANN201
    """Everything a zoom needs comes with the request: the window, the sensors, the width."""
    sensors, note = _chosen(sensor_ids)
    full_start, end = _full_window(range_key)
    tz = sensors[0]["tz"] if sensors else "UTC"
    # Zooms may go anywhere in the last year (a shared link may have opened outside the span); a reset is the span.
    window = _window(relayout or {}, tz, end - explorer_url.MAX_BACK, end)
    if not sensors or window is None:
        return dash.no_update, dash.no_update, dash.no_update
    reset = any(k.endswith(".autorange") and v for k, v in (relayout or {}).items())
    start, end = (full_start, end) if reset else window
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
    figures_explorer.patch_decorations(p, sensors, series, tz, (start, end))
    return p, note + _info(sensors, series), _store(start, end, not reset)


def _store(start, end, zoomed: bool) -> dict:  # noqa: ANN001
    return {"start": pd.Timestamp(start).isoformat(), "end": pd.Timestamp(end).isoformat(), "zoomed": zoomed}


@callback(
    Output("url", "hash", allow_duplicate=True),
    Input("exp-window", "data"),
    State("exp-sensors", "value"),
    State("exp-range", "value"),
    State("url", "hash"),
    prevent_initial_call=True,
)
def to_url(window, sensor_ids, range_key, fragment):  # noqa: ANN001, ANN201
    """The explorer's view lives in the URL fragment, zoom included: copy the link and the same window opens."""
    if not window:
        return dash.no_update
    span = (pd.Timestamp(window["start"]), pd.Timestamp(window["end"])) if window.get("zoomed") else None
    ids = [v for v in sensor_ids if isinstance(v, int)] if isinstance(sensor_ids, list) else []
    new = explorer_url.fragment(fragment, ids, range_key, span)
    return new if new != (fragment or "") else dash.no_update


@callback(
    Output("exp-download", "data"),
    Input("exp-csv", "n_clicks"),
    State("exp-sensors", "value"),
    State("exp-window", "data"),
    State("exp-width", "data"),
    prevent_initial_call=True,
)
def download(clicks, sensor_ids, window, width):  # noqa: ANN001, ANN201
    """What the chart draws, for the same window and width, one column per line with its unit."""
    sensors, _ = _chosen(sensor_ids)
    if not clicks or not sensors or not window:
        return dash.no_update
    start, end = pd.Timestamp(window["start"]).to_pydatetime(), pd.Timestamp(window["end"]).to_pydatetime()
    series = [data.sensor_series(int(s["sensor_id"]), start, end, _width(width)) for s in sensors]
    frame = figures_explorer.drawn_frame(sensors, series, sensors[0]["tz"])
    name = f"explorer-{sensors[0]['machine_id']}-{start:%Y%m%d-%H%M}-{end:%Y%m%d-%H%M}.csv"
    return dict(content=frame.to_csv(index=False), filename=name, type="text/csv")


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


def _info(sensors: list[dict], series: list) -> str:
    """Per sensor, in plain words: how many readings the window holds, and how they were drawn."""
    parts = []
    for s, ser in zip(sensors, series, strict=True):
        n, drawn = ser.points_in_window, int(np.count_nonzero(~np.isnan(ser.y)))
        readings = f"{n:,} reading" + ("" if n == 1 else "s")
        if ser.note:
            parts.append(f"{s['kind']}: {readings} in view; {ser.note}")
            continue
        if len(ser.lo):
            how = f"drawn as the {ser.label}"
        elif drawn < n:
            how = f"{drawn:,} points drawn (every peak kept)"
        else:
            how = "all drawn"
        parts.append(f"{s['kind']}: {readings} in view, {how}")
    text = " · ".join(parts)
    if any(ser.changes for ser in series):
        text += (
            ". The dotted line marks where the readings change rate: the line's texture changes there, not the machine."
        )
    return text
