"""The endpoints: each calls the same analytics and data functions as the page that shows the same numbers."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from dashboard import analytics, data
from dashboard.api import models as m
from dashboard.api.registry import ApiError, get
from dashboard.api.views import info, page, records, view_of

MAX_SENSOR_SPAN = timedelta(days=400)


def _parts(row: dict) -> dict:
    return {k: row[k] for k in m.Parts.model_fields}


@get("/plants", m.NoQuery, m.Plants, "Plants this token may read", "plants")
def plants(_q: m.NoQuery) -> m.Plants:
    return m.Plants(items=records(data.plants()[["plant_id", "name", "tz"]]))


@get("/oee", m.ViewQuery, m.OeeTotals, "OEE, its factors and parts over the view, in total and per plant", "oee")
def oee_totals(q: m.ViewQuery) -> m.OeeTotals:
    view, at = view_of(q), analytics.now()
    pp = analytics.per_plant(view, at)  # as the overview's cards and 'plants side by side'
    total = analytics.totals(pp).to_dict()
    return m.OeeTotals(view=info(view, at), total=_parts(records(pd.DataFrame([total]))[0]), plants=records(pp))


@get("/oee/groups", m.ViewQuery, m.OeeGroups, "OEE per plant, line or machine (group) over the view", "oee")
def oee_groups(q: m.ViewQuery) -> m.OeeGroups:
    view, at = view_of(q), analytics.now()
    frame = analytics.group_totals(view, at)  # as the OEE page's A/P/Q per group
    frame = frame.assign(name=frame["key"].map(analytics.group_names(view.group)).fillna(frame["key"]))
    return m.OeeGroups(view=info(view, at), items=records(frame))


@get("/oee/series", m.PageQuery, m.OeeSeries, "OEE trend per group and bucket, as the OEE page draws it", "oee")
def oee_series(q: m.PageQuery) -> m.OeeSeries:
    view, at = view_of(q), analytics.now()
    frame, bucket, _tz = analytics.trend(view, at)
    frame = frame.dropna(subset=["planned_s"]) if len(frame) else frame  # the page's gaps are not data
    names = analytics.group_names(view.group)
    items = []
    for row in records(frame):
        start = pd.Timestamp(row["bucket"]).to_pydatetime() if isinstance(bucket, int) else None
        day = None if isinstance(bucket, int) else pd.Timestamp(row["day"]).date()
        items.append({**_parts(row), "key": row["key"], "name": names.get(row["key"], row["key"]), "start": start, "day": day})
    chunk, nxt = page(items, q.cursor, q.limit)
    return m.OeeSeries(view=info(view, at), bucket=str(bucket), items=chunk, next_cursor=nxt)


@get("/oee/daily", m.PageQuery, m.OeeDaily, "OEE per group and plant-local day over each plant's own dates", "oee")
def oee_daily(q: m.PageQuery) -> m.OeeDaily:
    view, at = view_of(q), analytics.now()
    items = []
    for w in analytics.plant_windows(view, at):
        first = pd.Timestamp(w.start).tz_convert(w.tz).date()
        last = (pd.Timestamp(w.end).tz_convert(w.tz) - pd.Timedelta(microseconds=1)).date()
        frame = data.oee_daily(first, last, view.group, analytics.scope(view, w.plant_id))
        items += [{**_parts(r), "plant_id": w.plant_id, "key": r["key"], "day": r["day"]} for r in records(frame)]
    chunk, nxt = page(items, q.cursor, q.limit)
    return m.OeeDaily(view=info(view, at), items=chunk, next_cursor=nxt)


@get("/losses", m.ViewQuery, m.Losses, "The six big losses in seconds over the view", "losses")
def losses(q: m.ViewQuery) -> m.Losses:
    view, at = view_of(q), analytics.now()
    return m.Losses(view=info(view, at), items=records(analytics.losses(view, at)))


@get("/downtime", m.ViewQuery, m.Downtime, "Downtime per reason, largest first, with its cumulative share", "losses")
def downtime(q: m.ViewQuery) -> m.Downtime:
    view, at = view_of(q), analytics.now()
    return m.Downtime(view=info(view, at), items=records(analytics.pareto(view, at)))


@get("/inventory", m.PageQuery, m.Inventory, "Stock per material and plant now, lowest days of cover first", "inventory")
def inventory(q: m.PageQuery) -> m.Inventory:
    view, at = view_of(q), analytics.now()
    stock = data.inventory_status(at, view.plants or None)  # as the inventory page's risk grid
    chunk, nxt = page(records(stock[list(m.Stock.model_fields)]), q.cursor, q.limit)
    return m.Inventory(at=at, items=chunk, next_cursor=nxt)


@get("/sensors", m.ListQuery, m.Sensors, "Sensors this token may read", "sensors")
def sensors(q: m.ListQuery) -> m.Sensors:
    chunk, nxt = page(records(data.sensors()[list(m.Sensor.model_fields)]), q.cursor, q.limit)
    return m.Sensors(items=chunk, next_cursor=nxt)


@get(
    "/sensors/<int:sensor_id>/series",
    m.SensorQuery,
    m.SensorSeries,
    "One sensor's window reduced to about 'width' points, as the explorer draws it",
    "sensors",
)
def sensor_series(q: m.SensorQuery, sensor_id: int) -> m.SensorSeries:
    if q.end <= q.start:
        raise ApiError(400, f"'to' {q.end.isoformat()} is not after 'from' {q.start.isoformat()}")
    if q.end - q.start > MAX_SENSOR_SPAN:
        raise ApiError(400, f"a sensor window may span at most {MAX_SENSOR_SPAN.days} days")
    try:
        s = data.sensor_series(sensor_id, q.start, q.end, q.width)
    except LookupError:
        raise ApiError(404, f"unknown sensor {sensor_id} (or not one this token may read)") from None
    unit = data.sensors().set_index("sensor_id").loc[sensor_id, "unit"]
    nums = lambda a: [None if np.isnan(v) else float(v) for v in np.asarray(a, dtype=float)]  # noqa: E731
    return m.SensorSeries(
        sensor_id=sensor_id,
        unit=str(unit),
        start=q.start,
        end=q.end,
        label=s.label,
        points_in_window=int(s.points_in_window),
        t=[int(v) for v in s.x],
        value=nums(s.y),
        lo=nums(s.lo),
        hi=nums(s.hi),
        alarm_t=[int(v) for v in s.alarm_x],
        alarm_value=[float(v) for v in s.alarm_y],
    )
