"""What pages call: cached queries with ratios added, on the engine bound by init_app."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from flask import Flask
from sqlalchemy.engine import Engine

from dashboard import cache, kpi, queries
from dashboard.config import Settings


class _State:
    engine: Engine | None = None
    settings: Settings | None = None


_state = _State()


def init_app(server: Flask, engine: Engine, settings: Settings) -> str:
    """Bind the engine and the cache; return the cache type."""
    _state.engine, _state.settings = engine, settings
    return cache.init_app(server, settings)


def engine() -> Engine:
    if _state.engine is None:
        raise RuntimeError("dashboard.data.init_app was not called")
    return _state.engine


def settings() -> Settings:
    assert _state.settings is not None
    return _state.settings


@cache.queries.memoize(timeout=60)
def plants() -> pd.DataFrame:
    return queries.plants(engine())


@cache.queries.memoize()
def plant_today(now: datetime) -> pd.DataFrame:
    """Per plant: OEE, its factors and output from local midnight to ``now``."""
    return kpi.add_ratios(queries.plant_today(engine(), now))


@cache.queries.memoize()
def output_trend(start: datetime, end: datetime, bucket_s: int) -> pd.DataFrame:
    return queries.output_trend(engine(), start, end, bucket_s)


def live_overview(
    span: timedelta = timedelta(hours=12), bucket_s: int = 900
) -> tuple[datetime, pd.DataFrame, pd.DataFrame]:
    """Today's KPIs per plant and the output trend, for a window ending at the aligned 'now'."""
    refresh = settings().refresh_seconds
    start, end = cache.live_window(span, refresh)
    # Bucket starts aligned to the bucket size, so the trend does not shift with every refresh.
    start = start - timedelta(seconds=start.timestamp() % bucket_s)
    # Only whole buckets: a half-filled last bucket would read as a sudden drop in output.
    whole = end - timedelta(seconds=end.timestamp() % bucket_s)
    return end, plant_today(end), output_trend(start, whole, bucket_s)
