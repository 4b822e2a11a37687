"""Alerts: what is firing and what fired lately, filtered by plant, severity and state; acknowledge, resolve, silence."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

from dashboard import access, components, data
from dashboard.alerts import rules, view

dash.register_page(__name__, path="/alerts", name="Alerts", title="Alerts · Plant dashboards")

STATES = {"firing": "Firing", "pending": "Pending", "resolved": "Resolved (7 days)"}
BADGE = {"critical": "danger", "warning": "warning", "info": "info"}
STATE_BADGE = {"firing": "danger", "pending": "secondary", "resolved": "success"}


def layout(**_query: str) -> html.Div:
    filters = dbc.Row(
        [
            dbc.Col(dcc.Dropdown(id="al-plants", multi=True, placeholder="Every plant"), md=3),
            dbc.Col(
                dbc.Checklist(
                    id="al-severity", options=[{"label": s.title(), "value": s} for s in rules.SEVERITIES],
                    value=list(rules.SEVERITIES), inline=True,
                ),
                md="auto",
            ),
            dbc.Col(
                dbc.Checklist(
                    id="al-state", options=[{"label": v, "value": k} for k, v in STATES.items()],
                    value=["firing", "pending"], inline=True,
                ),
                md="auto",
            ),
        ],
        className="g-3 align-items-center mb-2",
    )
    actions = dbc.Row(
        [
            dbc.Col(dbc.Input(id="al-note", placeholder="Note for acknowledging, resolving or silencing",
                              maxLength=500), md=5),
            dbc.Col(
                dcc.Dropdown(id="al-duration", options=[{"label": f"Silence for {v[0]}", "value": k}
                                                        for k, v in view.SILENCES.items()],
                             value="1h", clearable=False),
                md=2,
            ),
        ],
        className="g-2 mb-2",
    )
    return html.Div(
        [
            html.H4("Alerts", className="mb-2"),
            filters,
            actions,
            html.Div(id="al-msg"),
            html.Div(id="al-table"),
            dcc.Store(id="al-done", data=0),
        ]
    )


@callback(
    Output("al-table", "children"),
    Output("al-plants", "options"),
    Input("al-plants", "value"),
    Input("al-severity", "value"),
    Input("al-state", "value"),
    Input("tick", "data"),
    Input("al-done", "data"),
)
def show(plants, severities, states, _tick, _done):  # noqa: ANN001, ANN201 - Dash callback
    try:
        options = [{"label": f"{p.plant_id} · {p.name}", "value": p.plant_id} for p in data.plants().itertuples()]
        asked = tuple(str(p)[:40] for p in plants[:50]) if plants else None
        frame = view.alerts(asked, fresh=ctx.triggered_id == "al-done")  # what this person just did shows at once
    except data.UNAVAILABLE:
        return components.database_away(), dash.no_update
    frame = frame[frame["severity"].isin(severities or []) & frame["state"].isin(states or [])]
    return _table(frame), options


def _table(frame: pd.DataFrame) -> html.Div:
    if frame.empty:
        return dbc.Alert("No alerts match these filters: nothing is firing in your plants.", color="success",
                         id="al-empty")
    head = html.Thead(html.Tr([html.Th(h) for h in ("State", "Severity", "Plant", "Alert", "Subject", "Value",
                                                      "Since (UTC)", "Acknowledged", "")]))
    return dbc.Table([head, html.Tbody([_row(r) for r in frame.itertuples()])], hover=True, size="sm",
                     responsive=True, id="al-list")


def _when(ts: object) -> str:
    return "–" if ts is None or pd.isna(ts) else pd.Timestamp(ts).tz_convert("UTC").strftime("%Y-%m-%d %H:%M")


def _row(r) -> html.Tr:  # noqa: ANN001 - a frame row
    active = r.state in ("firing", "pending")
    since = _when(r.fired if r.state == "firing" else r.started)
    if r.state == "resolved":
        since += f" → {_when(r.ended)}"
    acked = f"{r.acked_by}, {_when(r.acked_at)}" + (f": {r.ack_note}" if r.ack_note else "") if r.acked_by else "–"
    if r.resolved_by:
        acked = f"resolved by {r.resolved_by}" + (f": {r.ack_note}" if r.ack_note else "")
    act = lambda action, label, color: dbc.Button(  # noqa: E731
        label, id={"type": "al-act", "action": action, "id": int(r.instance_id)}, size="sm", color=color,
        outline=True, className="me-1",
    )
    buttons = []
    if active and not r.acked_by:
        buttons.append(act("ack", "Acknowledge", "primary"))
    if active and r.manual_resolve:
        buttons.append(act("resolve", "Resolve", "success"))
    buttons += [act("silence-subject", "Silence this", "secondary"), act("silence-rule", "Silence rule", "secondary")]
    state = [dbc.Badge(r.state, color=STATE_BADGE[r.state])]
    if r.silenced:
        state.append(dbc.Badge("silenced", color="light", text_color="dark", className="ms-1"))
    return html.Tr(
        [
            html.Td(state),
            html.Td(dbc.Badge(r.severity, color=BADGE[r.severity])),
            html.Td(r.plant_id),
            html.Td(r.rule),
            html.Td(view.subject_text(r.subject)),
            html.Td(r.value_text),
            html.Td(since),
            html.Td(acked),
            html.Td(buttons, className="text-nowrap"),
        ],
        className="al-row",
        **{"data-plant": r.plant_id, "data-state": r.state},
    )


@callback(
    Output("al-msg", "children"),
    Output("al-done", "data"),
    Input({"type": "al-act", "action": ALL, "id": ALL}, "n_clicks"),
    State("al-note", "value"),
    State("al-duration", "value"),
    State("al-done", "data"),
    prevent_initial_call=True,
)
def act(clicks, note, duration, done):  # noqa: ANN001, ANN201 - Dash callback
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(c for c in clicks or [] if c):
        return dash.no_update, dash.no_update
    if not ctx.triggered or not ctx.triggered[0].get("value"):
        return dash.no_update, dash.no_update  # the table was redrawn, nobody clicked
    action, instance_id, note = str(trigger.get("action")), int(trigger.get("id")), str(note or "")[:500]
    try:
        if action == "ack":
            view.acknowledge(instance_id, note)
            text = f"Acknowledged by {access.current().name}."
        elif action == "resolve":
            view.resolve(instance_id, note)
            text = "Resolved. It stays resolved until the numbers recover; a new breach after that alerts again."
        elif action in ("silence-subject", "silence-rule"):
            until = view.silence(instance_id, action.removeprefix("silence-"), duration or "1h", note)
            what = "this subject" if action == "silence-subject" else "this rule"
            text = f"No messages for {what} until {until:%Y-%m-%d %H:%M} UTC."
        else:
            return dash.no_update, dash.no_update
    except view.ActionError as exc:
        return dbc.Alert(str(exc), color="warning", dismissable=True, className="py-2"), dash.no_update
    except data.UNAVAILABLE:
        return components.database_away(), dash.no_update
    return dbc.Alert(text, color="success", dismissable=True, className="py-2"), (done or 0) + 1
