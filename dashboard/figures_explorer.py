"""The explorer's figure: one row per sensor on a shared time axis; four traces per sensor in a fixed order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Patch
from plotly.subplots import make_subplots

from dashboard import downsample, explorer
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


def _axes(row: int) -> tuple[str, str]:
    return ("x", "y") if row == 1 else (f"x{row}", f"y{row}")


def decorations(
    sensors: list[dict], series: list[Series], tz: str, window: tuple | None = None
) -> tuple[list[dict], list[dict]]:
    """Shapes and annotations: each row's title and limits, and a marked line where the readings change rate.

    Built as plain dicts that depend only on the sensors and the series, so a zoom can send them in its Patch
    (the sampling change moves, or leaves the window, as the window does)."""
    shapes: list[dict] = []
    notes: list[dict] = []
    for row, sensor in enumerate(sensors, start=1):
        xa, ya = _axes(row)
        notes.append(
            dict(
                text=f"{sensor['kind']} ({sensor['unit']})",
                xref=f"{xa} domain",
                yref=f"{ya} domain",
                x=0,
                y=1,
                xanchor="left",
                yanchor="bottom",
                showarrow=False,
                font=dict(size=14),
            )
        )
        for limit, word in ((sensor.get("hi_limit"), "high"), (sensor.get("lo_limit"), "low")):
            if limit is None or pd.isna(limit):
                continue
            shapes.append(
                dict(
                    type="line",
                    xref=f"{xa} domain",
                    x0=0,
                    x1=1,
                    yref=ya,
                    y0=limit,
                    y1=limit,
                    line=dict(color="#d62728", dash="dash", width=1),
                )
            )
            notes.append(
                dict(
                    text=f"{word} limit {limit:g} {sensor['unit']}",
                    xref=f"{xa} domain",
                    x=0,
                    xanchor="left",
                    yref=ya,
                    y=limit,
                    yanchor="bottom",
                    showarrow=False,
                    font=dict(size=11, color="#d62728"),
                )
            )
    # Long breaks in the line are shaded and named, so a day without readings does not pass for a drawing fault.
    if window is not None:
        span_ms = (pd.Timestamp(window[1]) - pd.Timestamp(window[0])).total_seconds() * 1000
        shaded: list[tuple[int, int]] = []
        for ser in series:
            for a, b in explorer.gaps(ser.x, ser.y, max(15 * 60_000, 0.03 * span_ms)):
                if any(a < d and b > c for c, d in shaded):
                    continue  # the sensors of one machine stop together: one band
                shaded.append((a, b))
                x0, x1 = (float(v) for v in local_x(np.array([a, b]), tz))
                shapes.append(
                    dict(
                        type="rect",
                        xref="x",
                        x0=x0,
                        x1=x1,
                        yref="paper",
                        y0=0,
                        y1=1,
                        fillcolor="#8a94a6",
                        opacity=0.1,
                        line_width=0,
                        layer="below",
                    )
                )
                notes.append(
                    dict(
                        text="no readings",
                        xref="x",
                        x=(x0 + x1) / 2,
                        yref="y domain",
                        y=0.02,
                        yanchor="bottom",
                        showarrow=False,
                        font=dict(size=11, color="#6c757d"),
                    )
                )
    seen: set[int] = set()
    for ser in series:
        for t_ms, before_s, after_s in ser.changes:
            if any(abs(t_ms - u) < 60_000 for u in seen):
                continue  # several sensors of one machine change rate together: one mark
            seen.add(t_ms)
            x = float(local_x(np.array([t_ms]), tz)[0])
            # The words sit on the side of the line with more room, so a change near an edge is not cut off.
            mid = None if window is None else sum(pd.Timestamp(t).value // 1_000_000 for t in window) / 2
            right = mid is not None and t_ms > mid
            shapes.append(
                dict(
                    type="line",
                    xref="x",
                    x0=x,
                    x1=x,
                    yref="paper",
                    y0=0,
                    y1=1,
                    line=dict(color="#6c757d", dash="dot", width=1.5),
                )
            )
            notes.append(
                dict(
                    text=f"readings every {_every(before_s)} before this line, every {_every(after_s)} after",
                    xref="x",
                    x=x,
                    xanchor="right" if right else "left",
                    xshift=-4 if right else 4,
                    yref="y domain",
                    y=0.98,
                    yanchor="top",
                    showarrow=False,
                    font=dict(size=12, color="#495057"),
                    bgcolor="rgba(255,255,255,0.85)",
                )
            )
    return shapes, notes


def patch_decorations(p: Patch, sensors: list[dict], series: list[Series], tz: str, window: tuple) -> None:
    """A zoom's Patch carries the decorations for its window (the sampling mark moves with it)."""
    shapes, notes = decorations(sensors, series, tz, window)
    p["layout"]["shapes"] = shapes
    p["layout"]["annotations"] = notes


def _every(seconds: float) -> str:
    return "second" if round(seconds) == 1 else downsample.bucket_label(seconds)


def figure(
    sensors: list[dict], series: list[Series], tz: str, window: tuple | None = None, revision: str = "explorer"
) -> go.Figure:
    """One row per sensor. The x-axis spans ``window`` (UTC) even where data is missing, so a year that holds four
    months of readings looks like it; ``revision`` changes with the selection, so a new choice drops an old zoom."""
    if not sensors:
        return empty("Choose a machine and at least one sensor")
    fig = make_subplots(rows=len(sensors), cols=1, shared_xaxes=True, vertical_spacing=0.08)
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
        fig.update_yaxes(title_text=sensor["unit"], row=row, col=1)
    fig.update_xaxes(type="date")
    if window is not None:
        lo, hi = (local_x(np.array([pd.Timestamp(t).value // 1_000_000]), tz)[0] for t in window)
        fig.update_xaxes(range=[lo, hi])
    fig.update_xaxes(title_text=f"Time ({tz})", row=len(sensors), col=1)
    fig.update_layout(**{k: v for k, v in BASE_LAYOUT.items() if k not in ("xaxis", "yaxis")})
    fig.update_xaxes(gridcolor="#e9edf3")
    fig.update_yaxes(gridcolor="#e9edf3")
    shapes, notes = decorations(sensors, series, tz, window)
    # No fixed height: the chart fills the page's height (the graph's style), which a fixed 260 px a row did not.
    fig.update_layout(
        shapes=shapes,
        annotations=notes,
        margin=dict(l=60, r=20, t=60, b=50),
        uirevision=revision,
        hovermode="x unified",
        showlegend=True,  # a single raw trace still names itself, so the legend never vanishes on a deep zoom
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=1, xanchor="right"),
    )
    return fig


def drawn_frame(sensors: list[dict], series: list[Series], tz: str) -> pd.DataFrame:
    """What the chart draws, for CSV: one row per drawn time, one column per line, its unit in the header."""
    frames = []
    for sensor, ser in zip(sensors, series, strict=True):
        unit, kind = sensor["unit"], sensor["kind"]
        cols = {f"{kind} ({unit})": ser.y}
        if len(ser.lo):
            cols = {f"{kind} mean ({unit})": ser.y, f"{kind} min ({unit})": ser.lo, f"{kind} max ({unit})": ser.hi}
        f = pd.DataFrame({"t": ser.x, **cols}).dropna(subset=[next(iter(cols))])  # NaN rows are drawn gaps
        frames.append(f.set_index("t"))
    time = f"Time ({tz})"
    if not frames:
        return pd.DataFrame(columns=[time])
    out = pd.concat(frames, axis=1).sort_index()
    wall = pd.to_datetime(out.index.to_numpy(), unit="ms", utc=True).tz_convert(tz).tz_localize(None)
    out.insert(0, time, wall.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3])
    return out.reset_index(drop=True)
