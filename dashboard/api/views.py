"""The view a request names, checked strictly (an API answers what was asked or says why not), and list pages."""

from __future__ import annotations

import base64
import math
from datetime import date, datetime, timedelta

import pandas as pd

from dashboard import analytics, data, viewstate
from dashboard.api.models import ViewInfo, ViewQuery
from dashboard.api.registry import ApiError
from dashboard.viewstate import View

UNKNOWN = ("Unknown plant", "Unknown line", "Unknown machine")


def view_of(q: ViewQuery) -> View:
    """The request's view; unknown ids (including those outside the token's plants) are a 404, bad ranges a 400."""
    preset = q.range or ("custom" if q.first or q.last else "7d")
    if preset == "custom":
        if not (q.first and q.last):
            raise ApiError(400, "a custom range needs both 'from' and 'to' as plant-local dates (YYYY-MM-DD)")
        if q.first > q.last:
            raise ApiError(400, f"'from' {q.first} is after 'to' {q.last}")
        for name, d in (("from", q.first), ("to", q.last)):
            if not viewstate.EARLIEST <= d <= date.today() + timedelta(days=366):
                raise ApiError(400, f"'{name}' {d} is out of range ({viewstate.EARLIEST} to a year from today)")
    elif q.first or q.last:
        raise ApiError(400, f"'from' and 'to' belong to range=custom, not range={preset}")
    raw = {"range": preset, "group": q.group}
    if preset == "custom":
        raw |= {"from": q.first.isoformat(), "to": q.last.isoformat()}
    raw |= {k: v for k, v in (("plant", q.plant), ("line", q.line), ("machine", q.machine)) if v}
    view, notices = viewstate.parse(raw, data.hierarchy())  # the hierarchy is already narrowed to the token's plants
    for notice in notices:
        if notice.startswith(UNKNOWN):
            raise ApiError(404, notice.replace(" ignored.", "") + " (or not one this token may read)")
        raise ApiError(400, notice)
    return view


def info(view: View, at: datetime) -> ViewInfo:
    tz = analytics.display_tz(view)
    start, end = viewstate.window(view, tz, at)
    return ViewInfo(
        range=view.preset,
        start=start,
        end=end,
        tz=tz,
        plants=list(view.plants),
        lines=list(view.lines),
        machines=list(view.machines),
        group=view.group,
        link=view.query().replace("?", "#", 1),
    )


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain Python values, NaN as None (JSON has no NaN)."""
    out = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for row in out:
        for k, v in row.items():
            if isinstance(v, float) and math.isnan(v):
                row[k] = None
            elif isinstance(v, pd.Timestamp):
                row[k] = v.to_pydatetime()
    return out


def page(items: list, cursor: str | None, limit: int) -> tuple[list, str | None]:
    """One page of ``items`` from ``cursor``; the next cursor, or None on the last page."""
    offset = 0
    if cursor:
        try:
            text = base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
            offset = int(text[2:]) if text.startswith("o:") else -1
        except (ValueError, UnicodeDecodeError):
            offset = -1
        if offset < 0:
            raise ApiError(400, "'cursor' is not one this API gave out; start again without it")
    chunk = items[offset : offset + limit]
    more = offset + limit < len(items)
    nxt = base64.urlsafe_b64encode(f"o:{offset + limit}".encode()).decode().rstrip("=") if more else None
    return chunk, nxt
