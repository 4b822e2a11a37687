"""What pages call: cached queries with ratios added, narrowed to what the person or wall screen asking may see."""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

import pandas as pd
from flask import Flask
from sqlalchemy.engine import Engine

from dashboard import (
    access,
    cache,
    db,
    demo_history,
    explorer,
    kpi,
    metrics,
    queries,
    queries_live,
    replica,
    retention,
    tiles,
)
from dashboard import queries_orders as order_queries
from dashboard.config import Settings
from dashboard.queries import ALL, Scope

log = logging.getLogger(__name__)
T = TypeVar("T")
UNAVAILABLE = db.UNAVAILABLE  # pages keep their last data and say so
TooSlow = db.TooSlow  # a query ran past QUERY_TIMEOUT_MS: pages keep their last data and say it took too long


READER_RETRY_S = 10.0  # after the reader (a standby) fails, pages read from the fallback this long


class _State:
    engine: Engine | None = None
    fallback: Engine | None = None
    settings: Settings | None = None
    reader_down_until = 0.0


_state = _State()


def init_app(server: Flask, engine: Engine, settings: Settings, fallback: Engine | None = None) -> str:
    """Bind the engine pages read (and, when that is a standby, the primary's ``fallback``) and the cache;
    return the cache type."""
    _state.engine, _state.fallback, _state.settings = engine, fallback, settings
    metrics.watch_pool(engine, "reader")
    if fallback is not None:
        metrics.watch_pool(fallback, "fallback")
    shared = tiles.shared_store(server, settings)
    cache.generations.reset()
    tiles.TILES.configure(settings.tile_cache_mb * 2**20, settings.cache_timeout, settings.refresh_seconds, shared)
    return cache.init_app(server, settings)


def engine() -> Engine:
    """The reader, or the fallback (the primary) for a while after the reader failed."""
    if _state.engine is None:
        raise RuntimeError("dashboard.data.init_app was not called")
    if _state.fallback is not None and time.monotonic() < _state.reader_down_until:
        return _state.fallback
    return _state.engine


def _read(work: Callable[[Engine], T]) -> T:
    """Run ``work`` on the reader; if a standby reader is away, once more on the primary, which then serves reads
    for READER_RETRY_S before the standby is tried again."""
    first = engine()
    try:
        with db.timeouts_in_words():
            return work(first)
    except UNAVAILABLE:
        if _state.fallback is None or first is _state.fallback:
            raise
        _state.reader_down_until = time.monotonic() + READER_RETRY_S
        log.warning("the reader is away; pages read from the primary for %.0f s", READER_RETRY_S)
    with db.timeouts_in_words():
        return work(_state.fallback)


def settings() -> Settings:
    assert _state.settings is not None, "dashboard.data.init_app was not called"
    return _state.settings


# Which data each answer is made of: its key carries those kinds' generations, so a correction to history
# (an import, a late write) is not answered from the cache again once the generation moves on.
KINDS = {
    "oee_totals": ("production", "model"),
    "oee_series": ("production", "model"),
    "oee_daily": ("production", "model"),
    "downtime_by_reason": ("production", "model"),
    "inventory_status": ("inventory", "model"),
    "inventory_levels": ("inventory", "model"),
    "inventory_flows": ("inventory", "model"),
}


def _cached(name: str, fn: Callable[..., pd.DataFrame], *args: object, end: datetime | None = None) -> pd.DataFrame:
    s = settings()
    timeout = s.cache_timeout if end is None else cache.timeout_for(end, s.refresh_seconds, s.cache_timeout)

    def run(eng: Engine) -> pd.DataFrame:
        with metrics.connection(eng) as conn, metrics.query(name, **_named(fn, args)):
            return fn(conn, *args)

    def compute() -> pd.DataFrame:
        return _read(run)

    gens = cache.generations.current(engine(), KINDS.get(name, ("model",)))
    return cache.query_cache.get_or_compute(cache.make_key(name, *args, gens), compute, timeout)


def _named(fn: Callable, args: tuple) -> dict[str, object]:
    """The query's bound parameters by their names in the query function, for the slow-query log."""
    names = list(inspect.signature(fn).parameters)[1:]  # after the connection
    return dict(zip(names, args))


def raw_from() -> datetime | None:
    """Where raw rows begin when RETAIN_RAW_DAYS deletes older ones; None when they are kept forever."""
    return retention.cutoff(settings().retain_raw_days)


def _retained() -> tuple:
    """(raw=False, raw_from) for the production queries when retention is on; nothing (the same cache keys as
    before) when it is off."""
    cut = raw_from()
    return () if cut is None else (False, cut)


def behind() -> datetime | None:
    """The standby's time when pages read from one that lags more than REPLICA_LAG_SECONDS, else None."""
    if not settings().reader_database_url or engine() is not _state.engine:  # no standby, or reading the primary
        return None
    return replica.behind(_state.engine, settings().replica_lag_s)


def reader_health() -> dict[str, object] | None:
    """For /healthz when pages read from their own server: standby or not, its lag, and whether it answers."""
    s = settings()
    if not s.reader_database_url:
        return None
    try:
        lag = replica.measure(_state.engine)
    except Exception:  # noqa: BLE001 - where and why go to the log, not to this public answer
        log.warning("healthz: the reader is not answering")
        return {"state": "unavailable", "reads_from": "primary" if _state.fallback else "nothing"}
    return {
        "state": "ok",
        "standby": lag.standby,
        "lag_seconds": None if lag.seconds is None else round(lag.seconds, 3),
    }


def demo_progress() -> tuple[int, int] | None:
    """(days loaded, DEMO_DAYS) while the demo is still loading its history; None otherwise."""
    s = settings()
    if not s.seed_demo:
        return None
    try:
        with engine().connect() as conn:
            return demo_history.progress(conn, pd.Timestamp.now(tz="UTC"), s.demo_days)
    except UNAVAILABLE:
        return None


def plants() -> pd.DataFrame:
    return access.rows(_cached("plants", queries.plants))


def hierarchy() -> pd.DataFrame:
    return access.rows(_cached("hierarchy", queries.hierarchy))


def oee_totals(start: datetime, end: datetime, group: str = "all", scope: Scope = ALL) -> pd.DataFrame:
    scope = access.scope(scope)
    tz = _one_zone(scope)  # then whole plant-local days come from the daily rollup: a year is 365 rows a machine
    args = (start, end, group, scope, False, tz, raw_from())
    return kpi.add_ratios(_cached("oee_totals", queries.oee_totals, *args, end=end))


def _one_zone(scope: Scope) -> str | None:
    """The time zone every plant in scope shares, or None when they differ."""
    p = _cached("plants", queries.plants)
    zones = set(p["tz"] if scope.plants is None else p.loc[p["plant_id"].isin(scope.plants), "tz"])
    return zones.pop() if len(zones) == 1 else None


def oee_series(start: datetime, end: datetime, bucket_s: int, group: str = "all", scope: Scope = ALL) -> pd.DataFrame:
    scope = access.scope(scope)
    extra = _retained()
    return kpi.add_ratios(
        _cached("oee_series", queries.oee_series, start, end, bucket_s, group, scope, *extra, end=end)
    )


def oee_daily(first: date, last: date, group: str = "all", scope: Scope = ALL) -> pd.DataFrame:
    scope = access.scope(scope)
    return kpi.add_ratios(_cached("oee_daily", queries.oee_daily, first, last, group, scope))


def data_start() -> dict[str, datetime]:
    """When production data starts, per plant the asker may see (plants without data are left out)."""
    d = access.rows(_cached("data_start", queries.data_start)).dropna(subset=["first_ts"])
    return {r.plant_id: pd.Timestamp(r.first_ts).tz_convert("UTC").to_pydatetime() for r in d.itertuples()}


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


def inventory_daily(start: datetime, end: datetime, plants_: tuple[str, ...] | None, tz: str) -> pd.DataFrame:
    plants_ = access.plants(plants_)
    return _cached("inventory_daily", queries.inventory_daily, start, end, plants_, tz, end=end)


def sensors() -> pd.DataFrame:
    return access.rows(_cached("sensors", queries.sensors))


def sensor_series(sensor_id: int, start: datetime, end: datetime, width_px: int) -> explorer.Series:
    """One sensor's window for the explorer; a sensor of a plant the principal may not see is unknown."""
    visible = sensors()
    match = visible[visible["sensor_id"] == sensor_id]
    if match.empty:
        raise LookupError(f"unknown sensor {sensor_id!r}")
    sensor, cut = match.iloc[0].to_dict(), raw_from()
    return _read(lambda eng: explorer.series(eng, sensor, start, end, width_px, cut))


# -- the state of things now, for alert rules (and any page that wants it); every plant, narrowed like the rest
def machine_idle(now: datetime, since: datetime) -> pd.DataFrame:
    frame = _cached("machine_idle", queries_live.machine_idle, now, since, end=now)
    return _by_machine(frame)


def sensor_beyond(now: datetime, since: datetime) -> pd.DataFrame:
    frame = _cached("sensor_beyond", queries_live.sensor_beyond, now, since, end=now)
    if access.current().plants is None:
        return frame
    return frame[frame["sensor_id"].isin(sensors()["sensor_id"])].reset_index(drop=True)


def last_data(now: datetime) -> pd.DataFrame:
    return _by_machine(_cached("last_data", queries_live.last_data, now, end=now))


def _by_machine(frame: pd.DataFrame) -> pd.DataFrame:
    if access.current().plants is None:
        return frame
    return frame[frame["machine_id"].isin(hierarchy()["machine_id"])].reset_index(drop=True)


def order_facts(start: datetime, end: datetime, plants_: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Orders that can touch [start, end), with their deliveries summed (dashboard.queries_orders)."""
    plants_ = access.plants(plants_)
    return _cached("order_facts", order_queries.order_facts, start, end, plants_, end=end)


def order_search(text: str, plants_: tuple[str, ...] | None = None) -> pd.DataFrame:
    plants_ = access.plants(plants_)
    return _cached("order_search", order_queries.order_search, text, plants_, end=datetime.now().astimezone())


def order_trace(order_id: str) -> dict[str, pd.DataFrame]:
    """One order with its machine runs and deliveries; an order of a plant the principal may not see is unknown."""
    plants_ = access.plants(None)
    return _cached("order_trace", order_queries.order_trace, order_id, plants_, end=datetime.now().astimezone())
