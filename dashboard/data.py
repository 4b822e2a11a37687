"""What pages call: cached queries with ratios added, narrowed to what the person or wall screen asking may see."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pandas as pd
from flask import Flask
from sqlalchemy.engine import Engine

from dashboard import access, cache, db, explorer, kpi, queries, tiles
from dashboard.config import Settings
from dashboard.orders import queries as order_queries
from dashboard.queries import ALL, Scope

UNAVAILABLE = db.UNAVAILABLE  # pages keep their last data and say so


class _State:
    engine: Engine | None = None
    settings: Settings | None = None


_state = _State()


def init_app(server: Flask, engine: Engine, settings: Settings) -> str:
    """Bind the engine and the cache; return the cache type."""
    _state.engine, _state.settings = engine, settings
    shared = tiles.shared_store(server, settings)
    tiles.TILES.configure(settings.tile_cache_mb * 2**20, settings.cache_timeout, settings.refresh_seconds, shared)
    return cache.init_app(server, settings)


def engine() -> Engine:
    if _state.engine is None:
        raise RuntimeError("dashboard.data.init_app was not called")
    return _state.engine


def settings() -> Settings:
    assert _state.settings is not None, "dashboard.data.init_app was not called"
    return _state.settings


def _cached(name: str, fn: Callable[..., pd.DataFrame], *args: object, end: datetime | None = None) -> pd.DataFrame:
    s = settings()
    timeout = s.cache_timeout if end is None else cache.timeout_for(end, s.refresh_seconds, s.cache_timeout)
    return cache.query_cache.get_or_compute(cache.make_key(name, *args), lambda: fn(engine(), *args), timeout)


def plants() -> pd.DataFrame:
    return access.rows(_cached("plants", queries.plants))


def hierarchy() -> pd.DataFrame:
    return access.rows(_cached("hierarchy", queries.hierarchy))


def oee_totals(start: datetime, end: datetime, group: str = "all", scope: Scope = ALL) -> pd.DataFrame:
    scope = access.scope(scope)
    return kpi.add_ratios(_cached("oee_totals", queries.oee_totals, start, end, group, scope, end=end))


def oee_series(start: datetime, end: datetime, bucket_s: int, group: str = "all", scope: Scope = ALL) -> pd.DataFrame:
    scope = access.scope(scope)
    return kpi.add_ratios(_cached("oee_series", queries.oee_series, start, end, bucket_s, group, scope, end=end))


def oee_daily(first: date, last: date, group: str = "all", scope: Scope = ALL) -> pd.DataFrame:
    scope = access.scope(scope)
    return kpi.add_ratios(_cached("oee_daily", queries.oee_daily, first, last, group, scope))


def shifts() -> pd.DataFrame:
    return access.rows(_cached("shifts", queries.shifts))


def materials() -> pd.DataFrame:
    return _cached("materials", queries.materials)


def downtime_by_reason(start: datetime, end: datetime, scope: Scope = ALL) -> pd.DataFrame:
    scope = access.scope(scope)
    return _cached("downtime_by_reason", queries.downtime_by_reason, start, end, scope, end=end)


def inventory_status(at: datetime, plants_: tuple[str, ...] | None = None) -> pd.DataFrame:
    plants_ = access.plants(plants_)
    return _cached("inventory_status", queries.inventory_status, at, plants_, end=at)


def inventory_levels(start: datetime, end: datetime, plants_: tuple[str, ...] | None, material: str) -> pd.DataFrame:
    plants_ = access.plants(plants_)
    return _cached("inventory_levels", queries.inventory_levels, start, end, plants_, material, end=end)


def inventory_flows(start: datetime, end: datetime, plants_: tuple[str, ...] | None, tz: str) -> pd.DataFrame:
    plants_ = access.plants(plants_)
    return _cached("inventory_flows", queries.inventory_flows, start, end, plants_, tz, end=end)


def sensors() -> pd.DataFrame:
    return access.rows(_cached("sensors", queries.sensors))


def sensor_series(sensor_id: int, start: datetime, end: datetime, width_px: int) -> explorer.Series:
    """One sensor's window for the explorer; a sensor of a plant the principal may not see is unknown."""
    visible = sensors()
    match = visible[visible["sensor_id"] == sensor_id]
    if match.empty:
        raise LookupError(f"unknown sensor {sensor_id!r}")
    return explorer.series(engine(), match.iloc[0].to_dict(), start, end, width_px)


def order_facts(start: datetime, end: datetime, plants_: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Orders that can touch [start, end), with their deliveries summed (dashboard.orders.queries)."""
    plants_ = access.plants(plants_)
    return _cached("order_facts", order_queries.order_facts, start, end, plants_, end=end)


def order_search(text: str, plants_: tuple[str, ...] | None = None) -> pd.DataFrame:
    plants_ = access.plants(plants_)
    return _cached("order_search", order_queries.order_search, text, plants_, end=datetime.now().astimezone())


def order_trace(order_id: str) -> dict[str, pd.DataFrame]:
    """One order with its machine runs and deliveries; an order of a plant the principal may not see is unknown."""
    plants_ = access.plants(None)
    return _cached("order_trace", order_queries.order_trace, order_id, plants_, end=datetime.now().astimezone())
