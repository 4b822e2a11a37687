"""The Cache object, bound to the Flask server with init_app; key and window helpers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask_caching import Cache

from dashboard.config import Settings

log = logging.getLogger(__name__)

# Answers to page queries. Redis when REDIS_URL is set, so every worker and host shares them.
queries = Cache()


def init_app(server: Flask, settings: Settings) -> str:
    """Bind the caches to ``server``; return the cache type chosen."""
    if settings.redis_url:
        cfg = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": settings.redis_url, "CACHE_KEY_PREFIX": "pd:"}
    else:
        cfg = {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 2000}
    cfg["CACHE_DEFAULT_TIMEOUT"] = settings.cache_timeout
    queries.init_app(server, config=cfg)
    return cfg["CACHE_TYPE"]


def live_now(refresh_s: int, now: datetime | None = None) -> datetime:
    """'Now' floored to the refresh interval, so every screen asking in that interval shares one key."""
    now = now or datetime.now(UTC)
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % refresh_s, tz=UTC)


def live_window(span: timedelta, refresh_s: int, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[end - span, end) with the end aligned to the refresh interval."""
    end = live_now(refresh_s, now)
    return end - span, end
