"""The shared filter bar: its components, and turning URL or control changes into one checked View."""

from __future__ import annotations

from datetime import date

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from dashboard import viewstate
from dashboard.viewstate import GROUPS, PRESETS, View


def bar() -> html.Div:
    """Range presets and dates, plants, lines and machines, and (on the OEE page) the grouping."""
    dropdown = dict(multi=True, clearable=True, className="flt-select")
    return html.Div(
        [
            # Fixed-width range and dates, three dropdowns sharing what is left, the grouping at its natural width
            # and never wrapped: twelve grid columns of fixed sizes overflowed once the dates showed, and the
            # Plant/Line/Machine choice fell onto a second row.
            dbc.Row(
                [
                    dbc.Col(
                        dcc.Dropdown(
                            id="flt-range",
                            options=[{"label": v, "value": k} for k, v in PRESETS.items()],
                            value="7d",
                            clearable=False,
                            searchable=False,
                        ),
                        width="auto",
                        className="flt-range-col",
                    ),
                    dbc.Col(
                        dcc.DatePickerRange(
                            id="flt-dates",
                            display_format="YYYY-MM-DD",
                            minimum_nights=0,
                            start_date_placeholder_text="from",
                            end_date_placeholder_text="to",
                        ),
                        width="auto",
                        id="flt-dates-col",
                        style={"display": "none"},
                    ),
                    dbc.Col(dcc.Dropdown(id="flt-plants", placeholder="All plants", **dropdown), className="flt-col"),
                    dbc.Col(dcc.Dropdown(id="flt-lines", placeholder="All lines", **dropdown), className="flt-col"),
                    dbc.Col(
                        dcc.Dropdown(id="flt-machines", placeholder="All machines", **dropdown), className="flt-col"
                    ),
                    dbc.Col(
                        dbc.RadioItems(
                            id="flt-group",
                            options=[{"label": v, "value": k} for k, v in GROUPS.items()],
                            value="plant",
                            inline=True,
                            className="pt-1 flt-group",
                        ),
                        width="auto",
                        id="flt-group-col",
                    ),
                ],
                className="g-2 align-items-center",
            ),
            html.Div(id="flt-notice", className="mt-2"),
        ],
        id="flt-bar",
        className="filter-bar mb-3",
    )


def options(h: pd.DataFrame, plants: tuple[str, ...], lines: tuple[str, ...]) -> tuple[list, list, list]:
    """Plant, line and machine choices; lines follow the plants chosen, machines the lines (or plants)."""
    plant_opts = [
        {"label": f"{r.plant} ({r.tz})", "value": r.plant_id} for r in h.drop_duplicates("plant_id").itertuples()
    ]
    in_plants = h[h["plant_id"].isin(plants)] if plants else h
    line_opts = [
        {"label": f"{r.plant} · {r.line}", "value": r.line_id}
        for r in in_plants.drop_duplicates("line_id").itertuples()
    ]
    in_lines = in_plants[in_plants["line_id"].isin(lines)] if lines else in_plants
    machine_opts = [{"label": f"{r.line_id} · {r.machine}", "value": r.machine_id} for r in in_lines.itertuples()]
    return plant_opts, line_opts, machine_opts


def from_controls(
    h: pd.DataFrame,
    preset: str,
    first: str | None,
    last: str | None,
    plants: list | None,
    lines: list | None,
    machines: list | None,
    group: str | None,
) -> tuple[View, list[str]]:
    """The view the controls describe, checked the same way a URL is."""
    q = {"range": preset or "7d", "group": group or "plant"}
    if preset == "custom":
        q |= {k: v for k, v in (("from", first), ("to", last)) if v}
    for key, values in (("plant", plants), ("line", lines), ("machine", machines)):
        if values:
            q[key] = ",".join(values)
    return viewstate.parse(q, h)


def control_values(view: View) -> tuple:
    """(range, from, to, plants, lines, machines, group) for the controls."""
    iso = lambda d: d.isoformat() if isinstance(d, date) else None  # noqa: E731
    return (
        view.preset,
        iso(view.first),
        iso(view.last),
        list(view.plants),
        list(view.lines),
        list(view.machines),
        view.group,
    )
