"""Inventory: materials by risk in a sortable grid, on hand against reorder point, value by plant, flows."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, ctx, dcc, html

from dashboard import analytics, components, data, exports, figures_inventory, viewstate, xlsx

dash.register_page(__name__, path="/inventory", name="Inventory", title="Inventory · Plant dashboards")

FMT = {"function": "params.value == null ? '–' : d3.format(',.1f')(params.value)"}
COLUMNS = [
    {"field": "plant_id", "headerName": "Plant", "filter": True, "width": 95},
    {"field": "name", "headerName": "Material", "filter": True, "minWidth": 170, "flex": 1},
    {"field": "on_hand", "headerName": "On hand", "type": "numericColumn", "valueFormatter": FMT, "width": 120},
    {"field": "unit", "headerName": "Unit", "width": 75},
    {
        "field": "days_of_cover",
        "headerName": "Days of cover (d)",
        "type": "numericColumn",
        "valueFormatter": FMT,
        "sort": "asc",
        "width": 150,
    },
    {
        "field": "reorder_point",
        "headerName": "Reorder point",
        "type": "numericColumn",
        "valueFormatter": FMT,
        "width": 130,
    },
    {"field": "below", "headerName": "Below reorder", "filter": True, "width": 135},
    {
        "field": "value",
        "headerName": "Value ($)",
        "type": "numericColumn",
        "valueFormatter": {"function": "d3.format('$,.0f')(params.value)"},
        "width": 120,
    },
]


def layout(**_query: str) -> html.Div:
    grid = dag.AgGrid(
        id="inv-grid",
        columnDefs=COLUMNS,
        rowData=[],
        className="ag-theme-alpine",
        style={"height": "420px"},
        # Headers wrap instead of being cut ("Days of cov…", "Below reor…"), and the header grows to fit them.
        defaultColDef={"sortable": True, "resizable": True, "wrapHeaderText": True, "autoHeaderHeight": True},
        getRowStyle={
            "styleConditions": [{"condition": "params.data.below === 'yes'", "style": {"backgroundColor": "#fde2e1"}}]
        },
        # A template string would be code to AG Grid (blocked against XSS); the locale text is plain text.
        dashGridOptions={"localeText": {"noRowsToShow": "No stock recorded for these plants"}},
    )
    levels = html.Div(
        [
            dcc.Dropdown(id="inv-material", clearable=False, className="mb-2"),
            dcc.Loading(
                dcc.Graph(id="inv-levels", style={"height": "360px"}, config={"displaylogo": False}),
                type="dot",
                delay_show=400,
            ),
        ]
    )
    return html.Div(
        [
            html.Div(
                [html.H2("Inventory", className="mb-0"), html.Small(id="inv-subtitle", className="text-muted")],
                className="mb-3",
            ),
            html.Div(id="inv-alert"),
            dbc.Row(
                [
                    dbc.Col(
                        components.panel("inv-risk", "Materials by risk (lowest cover first)", "inv-csv", grid), lg=7
                    ),
                    dbc.Col(components.panel("inv-value", "Inventory value by plant", "inv-csv", height="420px"), lg=5),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(components.panel("inv-levels", "On hand over time", "inv-csv", levels), lg=7),
                    dbc.Col(components.panel("inv-flows", "Consumed against received", "inv-csv"), lg=5),
                ],
                className="g-3 mb-3",
            ),
            dcc.Download(id="inv-download"),
            dcc.Download(id="inv-xlsx-download"),
        ]
    )


@callback(
    Output("inv-grid", "rowData"),
    Output("inv-value", "figure"),
    Output("inv-levels", "figure"),
    Output("inv-flows", "figure"),
    Output("inv-material", "options"),
    Output("inv-material", "value"),
    Output("inv-subtitle", "children"),
    Output("inv-alert", "children"),
    Input("view", "data"),
    Input("tick", "data"),
    Input("inv-material", "value"),
)
def refresh(view_data, _tick, material):  # noqa: ANN001, ANN201 - Dash callback
    if view_data is None:
        return (dash.no_update,) * 8
    view, at = viewstate.from_store(view_data), analytics.now()
    tz = analytics.display_tz(view)
    try:
        plants = data.plants()
        ids, names = plants["plant_id"].tolist(), dict(zip(plants["plant_id"], plants["name"], strict=True))
        status = data.inventory_status(at, view.plants or None)
        mats = data.materials()
        material = material if material in set(mats["material_id"]) else _riskiest(status, mats)
        start, end = viewstate.window(view, tz, at)
        unit = mats.set_index("material_id").loc[material, "unit"] if material else ""
        levels = data.inventory_levels(start, end, view.plants or None, material) if material else pd.DataFrame()
        figs = (
            figures_inventory.value_by_plant(status, ids, names),
            figures_inventory.levels(levels, ids, names, material or "this material", unit, tz),
            figures_inventory.flows(data.inventory_flows(start, end, view.plants or None, tz), tz),
        )
    except data.TooSlow:
        return (*[dash.no_update] * 7, components.took_too_long())
    except data.UNAVAILABLE:
        return (*[dash.no_update] * 7, components.database_away())
    rows = status.assign(below=status["below_reorder"].map({True: "yes", False: "no"})).to_dict("records")
    options = [{"label": f"{r.name} ({r.unit})", "value": r.material_id} for r in mats.itertuples()]
    note = analytics.range_note(view, at)
    sub = f"Stock now; movements over {note[:1].lower() + note[1:]} · times in {tz} · as of {at:%H:%M:%S} UTC"
    return rows, *figs, options, material, sub, components.behind(data.behind())


def _riskiest(status: pd.DataFrame, mats: pd.DataFrame) -> str | None:
    """Open on the material closest to running out."""
    if len(status):
        return str(status.iloc[0]["material_id"])
    return str(mats.iloc[0]["material_id"]) if len(mats) else None


@callback(
    Output("inv-download", "data"),
    Input({"type": "inv-csv", "chart": dash.ALL}, "n_clicks"),
    State("view", "data"),
    State("inv-material", "value"),
    prevent_initial_call=True,
)
def download(clicks, view_data, material):  # noqa: ANN001, ANN201
    return exports.download(ctx.triggered_id, view_data, material=material) if any(clicks) else dash.no_update


@callback(
    Output("inv-xlsx-download", "data"),
    Input({"type": "inv-xlsx", "chart": dash.ALL}, "n_clicks"),
    State("view", "data"),
    State("inv-material", "value"),
    prevent_initial_call=True,
)
def download_xlsx(clicks, view_data, material):  # noqa: ANN001, ANN201
    return xlsx.download(ctx.triggered_id, view_data, material=material) if any(clicks) else dash.no_update
