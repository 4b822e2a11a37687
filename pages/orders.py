"""Orders: OTIF, lead time by stage, lead-time bands, OTIF per week, late and at-risk orders, an order's trace."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, ctx, dcc, html

from dashboard import analytics, components, data, fmt, viewstate
from dashboard.figures import empty
from dashboard.orders import cards, exports, figures, report
from dashboard.viewstate import PRESETS

dash.register_page(__name__, path="/orders", name="Orders", title="Orders · Plant dashboards")

NUM = {"function": "params.value == null ? '–' : d3.format(',.0f')(params.value)"}
COLUMNS = [
    {"field": "order_id", "headerName": "Order", "filter": True, "minWidth": 215, "flex": 1},
    {"field": "plant_id", "headerName": "Plant", "filter": True, "width": 85},
    {"field": "risk", "headerName": "Risk", "filter": True, "width": 95},
    {"field": "promised", "headerName": "Promised (plant-local)", "width": 170},
    {"field": "days_left", "headerName": "Days to promise (d)", "type": "numericColumn", "width": 160},
    {"field": "stage", "headerName": "Stage", "filter": True, "width": 110},
    {"field": "hold_reason", "headerName": "Held for", "width": 100},
    {"field": "kind", "headerName": "Kind", "width": 80},
    {"field": "customer", "headerName": "Customer", "width": 140},
    {"field": "qty_ordered", "headerName": "Ordered (units)", "type": "numericColumn", "valueFormatter": NUM, "width": 140},
    {"field": "qty_produced", "headerName": "Made (units)", "type": "numericColumn", "valueFormatter": NUM, "width": 125},
]  # fmt: skip


def layout(**_query: str) -> html.Div:
    grid = dag.AgGrid(
        id="ord-late-grid",
        columnDefs=COLUMNS,
        rowData=[],
        className="ag-theme-alpine",
        style={"height": "380px"},
        defaultColDef={"sortable": True, "resizable": True},
        getRowStyle={
            "styleConditions": [
                {"condition": "params.data.risk === 'late'", "style": {"backgroundColor": "#fde2e1"}},
                {"condition": "params.data.risk === 'at risk'", "style": {"backgroundColor": "#fff4d6"}},
            ]
        },
        dashGridOptions={"localeText": {"noRowsToShow": "No open order is late or at risk here"}},
    )
    trace = html.Div(
        [
            dcc.Dropdown(
                id="ord-order",
                placeholder="Search an order by id, material or customer (or click one in the grid)…",
                className="mb-2",
            ),
            html.Div(id="ord-trace-info", className="small text-muted mb-1"),
            dcc.Loading(
                dcc.Graph(id="ord-trace", style={"height": "300px"}, config={"displaylogo": False}),
                type="dot",
                delay_show=400,
            ),
        ]
    )
    return html.Div(
        [
            html.Div(
                [html.H2("Orders", className="mb-0"), html.Small(id="ord-subtitle", className="text-muted")],
                className="mb-3",
            ),
            html.Div(id="ord-alert"),
            dcc.Loading(html.Div(id="ord-cards"), type="dot", delay_show=400),
            dbc.Row(
                [
                    dbc.Col(components.panel("ord-stages", "Lead time by stage", "ord-csv"), lg=6),
                    dbc.Col(components.panel("ord-distribution", "Lead-time distribution", "ord-csv"), lg=6),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(components.panel("ord-otif-trend", "OTIF per week", "ord-csv", height="380px"), lg=5),
                    dbc.Col(components.panel("ord-late", "Late and at-risk open orders", "ord-csv", grid), lg=7),
                ],
                className="g-3 mb-3",
            ),
            dbc.Row(dbc.Col(components.panel("ord-trace", "Order trace", "ord-csv", trace)), className="g-3 mb-3"),
            dcc.Download(id="ord-download"),
        ]
    )


@callback(
    Output("ord-cards", "children"),
    Output("ord-stages", "figure"),
    Output("ord-distribution", "figure"),
    Output("ord-otif-trend", "figure"),
    Output("ord-late-grid", "rowData"),
    Output("ord-subtitle", "children"),
    Output("ord-alert", "children"),
    Input("view", "data"),
    Input("tick", "data"),
)
def refresh(view_data, _tick):  # noqa: ANN001, ANN201 - Dash callback
    if view_data is None:
        return (dash.no_update,) * 7
    view, at = viewstate.from_store(view_data), analytics.now()
    s = data.settings()
    try:
        what = analytics.describe(view)
        orders, before = report.load(view, at), report.load(view, at, previous=True)
        body = cards.page_cards(report.kpis(orders), report.kpis(before))
        summary, names = report.stages(orders, view.group)
        figs = (
            figures.stages(summary, names, "line" if view.group != "plant" else "plant", what),
            figures.distribution(report.distribution(orders), s.order_delayed_days, s.order_critical_days, what),
            figures.otif_trend(report.weekly(orders), orders.names, what),
        )
        rows = _grid_rows(orders.late())
    except data.UNAVAILABLE:
        return (*[dash.no_update] * 6, components.database_away())
    zones = "each plant's own time zone" if len(orders.zones) > 1 else next(iter(orders.zones.values()), "UTC")
    sub = (
        f"{PRESETS[view.preset]} · days and weeks in {zones} · in full at ≥ {100 - s.otif_tolerance_pct:g} % of "
        f"the ordered quantity · as of {at:%H:%M:%S} UTC"
    )
    return body, *figs, rows, sub, None


def _grid_rows(late: pd.DataFrame) -> list[dict]:
    if late.empty:
        return []
    out = late.assign(promised=late["promised_date"].dt.strftime("%Y-%m-%d"))
    cols = [c["field"] for c in COLUMNS]
    return out[cols].astype(object).where(out[cols].notna(), None).to_dict("records")


@callback(
    Output("ord-order", "options"),
    Input("ord-order", "search_value"),
    Input("ord-order", "value"),
)
def search(text, chosen):  # noqa: ANN001, ANN201
    """Up to 20 orders matching what was typed; the chosen one stays in the list."""
    text = (text or "").strip()[:64]
    options = [] if not chosen else [{"label": chosen, "value": chosen}]
    if len(text) < 2:
        return options or dash.no_update
    try:
        found = data.order_search(text)
    except data.UNAVAILABLE:
        return dash.no_update
    labels = [
        {"label": f"{r.order_id} · {r.material_id} · {r.customer or 'to stock'}", "value": r.order_id}
        for r in found.itertuples()
    ]
    return labels + [o for o in options if o["value"] not in set(found["order_id"])]


@callback(
    Output("ord-order", "value"),
    Input("ord-late-grid", "cellClicked"),
    prevent_initial_call=True,
)
def pick_from_grid(cell):  # noqa: ANN001, ANN201
    """A click on an order's id in the grid opens its trace."""
    value = (cell or {}).get("value")
    return str(value)[:64] if (cell or {}).get("colId") == "order_id" and value else dash.no_update


@callback(
    Output("ord-trace", "figure"),
    Output("ord-trace-info", "children"),
    Input("ord-order", "value"),
    Input("tick", "data"),
)
def show_trace(order_id, _tick):  # noqa: ANN001, ANN201
    if not order_id:
        return empty("Search an order above to see its stages and the machines that ran it"), ""
    try:
        order, timeline, deliveries = report.trace(str(order_id)[:64])
    except data.UNAVAILABLE:
        return dash.no_update, components.database_away()
    if order is None:
        return empty(f"No order {str(order_id)[:64]!r} among the plants you can see"), ""
    shipped = deliveries.loc[deliveries["goods_issue_at"].notna(), "qty"].sum() if len(deliveries) else 0.0
    promised = deliveries["promised_date"].min() if len(deliveries) else None
    info = (
        f"{order['order_id']} · plant {order['plant_id']} · line {order['line_id'] or '–'} · {order['kind']}"
        f"{' for ' + order['customer'] if order['customer'] else ''} · {order['material_id']} · ordered "
        f"{fmt.count(order['qty_ordered'], 'units')}, made {fmt.count(order['qty_produced'], 'units')}, shipped "
        f"{fmt.count(shipped, 'units')} · promised {promised or '–'} · times in {order['tz']}"
    )
    return figures.trace(timeline, order["order_id"], order["tz"], pd.Timestamp(analytics.now())), info


@callback(
    Output("ord-download", "data"),
    Input({"type": "ord-csv", "chart": dash.ALL}, "n_clicks"),
    State("view", "data"),
    State("ord-order", "value"),
    prevent_initial_call=True,
)
def download(clicks, view_data, order_id):  # noqa: ANN001, ANN201
    return exports.download(ctx.triggered_id, view_data, order=order_id) if any(clicks) else dash.no_update
