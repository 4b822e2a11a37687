"""Executive overview: OEE and its factors against target, output, scrap and stock, by plant and by loss."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

from dashboard import analytics, cards, components, data, exports, figures, fmt, kpi, theme, viewstate, xlsx
from dashboard.orders import cards as order_cards

dash.register_page(__name__, path="/", name="Overview", title="Overview · Plant dashboards")


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.Div(
                [html.H2("Executive overview", className="mb-0"), html.Small(id="ov-subtitle", className="text-muted")],
                className="mb-3",
            ),
            html.Div(id="ov-alert"),
            # A slow refresh shows the spinner over the cards, not instead of them: the numbers stay readable.
            dcc.Loading(html.Div(id="ov-cards"), type="dot", delay_show=400, overlay_style={"visibility": "visible"}),
            dbc.Row(
                [
                    dbc.Col(components.panel("ov-plants", "Plants side by side", "ov-csv"), lg=7),
                    dbc.Col(components.panel("ov-losses", "Five biggest losses", "ov-csv"), lg=5),
                ],
                className="g-3 mt-1",
            ),
            dcc.Download(id="ov-download"),
            dcc.Download(id="ov-xlsx-download"),
        ]
    )


def _kpi_cards(view: viewstate.View, at) -> list:  # noqa: ANN001 - a datetime
    target = data.settings().oee_target
    pp, prev = analytics.per_plant(view, at), analytics.per_plant(view, at, previous=True)
    t, tp = analytics.totals(pp), analytics.totals(prev)
    tz = analytics.display_tz(view)
    last = pd.Timestamp(at).tz_convert(tz).date()
    daily = kpi.add_ratios(data.oee_daily(last - pd.Timedelta(days=13), last, "all", analytics.scope(view)))
    spark = lambda col, colour: figures.sparkline(pd.to_datetime(daily["day"]), daily[col], colour)  # noqa: E731
    oee_note = f"target {fmt.pct(target, 0)}"
    # (id, title, column, colour): ratios compare in points, output in percent.
    ratio_cards = [
        ("oee", "OEE", "#333"),
        ("availability", "Availability", "#4c78a8"),
        ("performance", "Performance", "#f58518"),
        ("quality", "Quality", "#54a24b"),
    ]
    row1 = [
        cards.card(
            f"ov-kpi-{col}",
            title,
            fmt.pct(t[col]),
            cards.delta(t[col], tp[col], "ratio"),
            spark(col, colour),
            oee_note if col == "oee" else None,
            alert=col == "oee" and bool(t.oee < target),
        )
        for col, title, colour in ratio_cards
    ]
    row1.append(
        cards.card(
            "ov-kpi-good",
            "Good output",
            fmt.count(t.good_count, "units"),
            cards.delta(t.good_count, tp.good_count, "amount"),
            spark("good_count", theme.GOOD),
        )
    )
    now_stock = data.inventory_status(at, view.plants or None)
    start = min(w.start for w in analytics.plant_windows(view, at)) if len(pp) else at
    stock_before = data.inventory_status(start, view.plants or None)
    stock = analytics.stock_daily(view, at)
    inv = _stock_kpis(now_stock)
    inv_before = _stock_kpis(stock_before)
    row2 = [
        cards.card(
            "ov-kpi-scrap",
            "Scrap rate",
            fmt.pct(t.scrap_rate, 2),
            cards.delta(t.scrap_rate, tp.scrap_rate, "ratio", higher_is_better=False),
            spark("scrap_rate", "#9467bd"),
        ),
        cards.card(
            "ov-kpi-value",
            "Inventory value",
            fmt.money(inv["value"]),
            cards.delta(inv["value"], inv_before["value"], "amount"),
            figures.sparkline(stock["day"], stock["value"], "#4c78a8"),
        ),
        cards.card(
            "ov-kpi-cover",
            "Days of cover",
            fmt.duration(inv["cover_days"] * 86400) if inv["cover_days"] == inv["cover_days"] else "–",
            cards.delta(inv["cover_days"], inv_before["cover_days"], "amount"),
            figures.sparkline(stock["day"], stock["cover_days"], "#72b7b2"),
            note="stock value / daily use value",
        ),
        cards.card(
            "ov-kpi-reorder",
            "Below reorder point",
            f"{inv['below']} of {inv['count']}",
            cards.delta(inv["below"], inv_before["below"], "amount", higher_is_better=False),
            figures.sparkline(stock["day"], stock["below"], "#e45756"),
            note="materials at or under their reorder point",
            alert=inv["below"] > 0,
        ),
        order_cards.overview_otif(view, at),
    ]
    return [dbc.Row(row1, className="g-3 mb-3"), dbc.Row(row2, className="g-3")]


def _stock_kpis(stock: pd.DataFrame) -> dict:
    value = float(stock["value"].sum()) if len(stock) else 0.0
    use_value = float((stock["daily_use"] * stock["unit_cost"]).sum()) if len(stock) else 0.0
    return {
        "value": value,
        "cover_days": kpi.days_of_cover(value, use_value) if len(stock) else float("nan"),
        "below": int(stock["below_reorder"].sum()) if len(stock) else 0,
        "count": len(stock),
    }


@callback(
    Output("ov-cards", "children"),
    Output("ov-plants", "figure"),
    Output("ov-losses", "figure"),
    Output("ov-subtitle", "children"),
    Output("ov-alert", "children"),
    Input("view", "data"),
    Input("tick", "data"),
)
def refresh(view_data, _tick):  # noqa: ANN001, ANN201 - Dash callback
    if view_data is None:
        return (dash.no_update,) * 5
    view = viewstate.from_store(view_data)
    at = analytics.now()
    try:
        body = _kpi_cards(view, at)
        plants = figures.plants_side_by_side(analytics.per_plant(view, at), data.settings().oee_target)
        losses = figures.losses_bar(analytics.losses(view, at))
    except data.TooSlow:
        return (*[dash.no_update] * 4, components.took_too_long())
    except data.UNAVAILABLE:  # keep the last good numbers (and their time stamp) on screen
        return (*[dash.no_update] * 4, components.database_away())
    zones = "each plant in its own time zone" if len(analytics.plants_in(view)) > 1 else analytics.display_tz(view)
    sub = f"{analytics.range_note(view, at)} · {zones} · showing data as of {at:%H:%M:%S} UTC"
    return body, plants, losses, sub, components.behind(data.behind())


@callback(
    Output("ov-download", "data"),
    Input({"type": "ov-csv", "chart": ALL}, "n_clicks"),
    State("view", "data"),
    prevent_initial_call=True,
)
def download(clicks, view_data):  # noqa: ANN001, ANN201
    return exports.download(ctx.triggered_id, view_data) if any(clicks) else dash.no_update


@callback(
    Output("ov-xlsx-download", "data"),
    Input({"type": "ov-xlsx", "chart": ALL}, "n_clicks"),
    State("view", "data"),
    prevent_initial_call=True,
)
def download_xlsx(clicks, view_data):  # noqa: ANN001, ANN201
    return xlsx.download(ctx.triggered_id, view_data) if any(clicks) else dash.no_update
