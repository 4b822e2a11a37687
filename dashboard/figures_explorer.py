"""The explorer's figure: one row per sensor on a shared time axis; four traces per sensor in a fixed order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Patch
from plotly.subplots import make_subplots

from dashboard.explorer import Series
from dashboard.figures import BASE_LAYOUT, empty

TRACES_PER_SENSOR = 4  # envelope low, envelope high, main line, beyond-limit points
COLOURS = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#72b7b2"]


def local_x(ms: np.ndarray, tz: str) -> np.ndarray:
    """Epoch ms shifted to the plant's wall clock, as float64: plotly draws numbers on a date axis as ms, and a
    numeric array travels as a compact typed array (about 11 bytes a point) instead of ISO strings (about 26)."""
    if not len(ms):
        return np.array([], dtype=np.float64)
    wall = pd.to_datetime(ms, unit="ms", utc=True).tz_convert(tz).tz_localize(None)
    return wall.to_numpy(dtype="datetime64[ms]").astype(np.int64).astype(np.float64)


def trace_values(s: Series, tz: str) -> list[dict]:
    """x (or x0 and dx), y and name of the four traces, in order: what a zoom sends as a Patch.

    An envelope sits on a regular grid, so its three traces share one start and step instead of three x arrays;
    that halves the payload. Across a daylight-saving change the grid is not regular on the wall clock: x is sent.
    """
    x = local_x(s.x, tz)
    if len(s.lo):
        step = np.diff(x)
        if len(x) > 1 and np.all(step == step[0]):
            env = [{"x0": x[0], "dx": step[0], "y": y} for y in (s.lo, s.hi, s.y)]
        else:
            env = [{"x": x, "y": y} for y in (s.lo, s.hi, s.y)]
    else:
        env = [{"x": x[:0], "y": s.lo}, {"x": x[:0], "y": s.hi}, {"x": x, "y": s.y}]
    env[2]["name"] = s.label
    return [*env, {"x": local_x(s.alarm_x, tz), "y": s.alarm_y}]


def patch(p: Patch, first: int, values: list[dict], prefix: str) -> None:
    """Write one sensor's trace values into a Patch of the figure, starting at trace ``first``."""
    for k, v in enumerate(values):
        trace = p["data"][first + k]
        if "x" in v:
            trace["x"] = v["x"]
        else:  # x would win over x0/dx
            del trace["x"]
            trace["x0"], trace["dx"] = v["x0"], v["dx"]
        trace["y"] = v["y"]
        if "name" in v:
            trace["name"] = f"{prefix} · {v['name']}"


def figure(
    sensors: list[dict], series: list[Series], tz: str, window: tuple | None = None, revision: str = "explorer"
) -> go.Figure:
    """One row per sensor. The x-axis spans ``window`` (UTC) even where data is missing, so a year that holds four
    months of readings looks like it; ``revision`` changes with the selection, so a new choice drops an old zoom."""
    if not sensors:
        return empty("Choose a machine and at least one sensor")
    titles = [f"{s['kind']} ({s['unit']})" for s in sensors]
    fig = make_subplots(
        rows=len(sensors),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=titles,
    )
    for i, (sensor, ser) in enumerate(zip(sensors, series, strict=True)):
        colour, row = COLOURS[i % len(COLOURS)], i + 1
        values = trace_values(ser, tz)
        fig.add_trace(
            go.Scatter(
                **values[0],
                mode="lines",
                line=dict(width=1, color="rgba(76,120,168,0.35)"),
                showlegend=False,
                hoverinfo="skip",
                connectgaps=False,
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                **values[1],
                mode="lines",
                line=dict(width=1, color="rgba(76,120,168,0.35)"),
                connectgaps=False,
                name=f"{sensor['kind']} min–max",
                hoverinfo="skip",
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                **values[2] | {"name": f"{sensor['kind']} · {ser.label}"},
                mode="lines",
                line=dict(color=colour, width=1.5),
                connectgaps=False,
                hovertemplate=f"%{{y:.2f}} {sensor['unit']}<extra>{sensor['kind']}</extra>",
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                **values[3],
                mode="markers",
                marker=dict(color="#d62728", size=7, symbol="x"),
                name=f"{sensor['kind']} beyond limit",
                hovertemplate=f"%{{y:.2f}} {sensor['unit']} beyond limit<extra></extra>",
            ),
            row=row,
            col=1,
        )
        for limit, word in ((sensor.get("hi_limit"), "high"), (sensor.get("lo_limit"), "low")):
            if limit is not None and not pd.isna(limit):
                fig.add_hline(
                    y=limit,
                    row=row,
                    col=1,
                    line=dict(color="#d62728", dash="dash", width=1),
                    annotation_text=f"{word} limit {limit:g} {sensor['unit']}",
                    annotation_position="top left",
                )
        fig.update_yaxes(title_text=sensor["unit"], row=row, col=1)
    fig.update_xaxes(type="date")
    if window is not None:
        lo, hi = (local_x(np.array([pd.Timestamp(t).value // 1_000_000]), tz)[0] for t in window)
        fig.update_xaxes(range=[lo, hi])
    fig.update_xaxes(title_text=f"Time ({tz})", row=len(sensors), col=1)
    fig.update_layout(**{k: v for k, v in BASE_LAYOUT.items() if k not in ("xaxis", "yaxis")})
    fig.update_xaxes(gridcolor="#e9edf3")
    fig.update_yaxes(gridcolor="#e9edf3")
    fig.update_layout(
        height=max(320, 260 * len(sensors) + 80),
        uirevision=revision,
        hovermode="x unified",
        showlegend=True,  # a single raw trace still names itself, so the legend never vanishes on a deep zoom
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=1, xanchor="right"),
    )
    fig.for_each_annotation(lambda a: a.update(x=0, xanchor="left") if a.text in titles else None)
    return fig
