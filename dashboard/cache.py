"""The query cache: flask-caching (Redis when configured), single flight per key, and live-window alignment."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import sqlalchemy as sa
from cachelib import SimpleCache
from flask import Flask
from flask_caching import Cache
from sqlalchemy.engine import Engine

from dashboard import metrics
from dashboard.config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

# Answers to page queries. Redis when REDIS_URL is set, so every worker and host shares them.
queries = Cache()


class QueryCache:
    """get-or-compute with one computation per key at a time, across threads and (with Redis) processes.

    A cache that fails is logged and bypassed for a few seconds: the answer then comes from the
    database through a small per-process cache, never an error on the page.
    """

    lock_ttl_s = 30.0
    wait_s = 10.0
    retry_after_s = 5.0

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self.local = SimpleCache(threshold=500)
        self.kind = "none"
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._down_until = 0.0
        self.stats = {"hits": 0, "misses": 0, "waits": 0, "errors": 0}

    def init_app(self, server: Flask, settings: Settings) -> str:
        if settings.redis_url:
            cfg = {
                "CACHE_TYPE": "RedisCache",
                "CACHE_REDIS_URL": settings.redis_url,
                "CACHE_KEY_PREFIX": "pd:",
                # A Redis that is away must cost milliseconds, not the default seconds.
                "CACHE_OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
            }
        else:
            cfg = {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 2000}
        cfg["CACHE_DEFAULT_TIMEOUT"] = settings.cache_timeout
        self.cache.init_app(server, config=cfg)
        self.kind = cfg["CACHE_TYPE"]
        return self.kind

    # -- backend access that never raises
    @property
    def backend(self):  # noqa: ANN201 - a cachelib backend
        if time.monotonic() < self._down_until:
            return self.local
        return self.cache.cache

    @property
    def redis(self):  # noqa: ANN201 - the redis client, or None when not on Redis or Redis is away
        backend = self.backend
        return getattr(backend, "_write_client", None)

    def _safe(self, op: Callable[[], T], default: T) -> T:
        try:
            return op()
        except Exception as exc:  # noqa: BLE001 - any cache failure means: go to the database
            self.stats["errors"] += 1
            metrics.CACHE_TOTAL.labels("error").inc()
            if time.monotonic() >= self._down_until:
                log.warning("cache unavailable, using the database and a local cache: %s", exc)
            self._down_until = time.monotonic() + self.retry_after_s
            return default

    def healthy(self) -> bool:
        if self.kind != "RedisCache":
            return True
        client = self.cache.cache._write_client
        return self._safe(lambda: bool(client.ping()), False)

    # -- get or compute
    def get_or_compute(self, key: str, compute: Callable[[], T], timeout: int) -> T:
        hit = self._safe(lambda: self.backend.get(key), None)
        if hit is not None:
            self._count("hits")
            return hit
        with self._thread_lock(key):
            hit = self._safe(lambda: self.backend.get(key), None)  # a thread before us may have filled it
            if hit is not None:
                self._count("hits")
                return hit
            token = self._acquire(key)
            if token is None:  # another process is computing it: wait for its answer
                hit = self._wait_for(key)
                if hit is not None:
                    self._count("waits")
                    return hit
            try:
                self._count("misses")
                value = compute()
                self._safe(lambda: self.backend.set(key, value, timeout=timeout), None)
                return value
            finally:
                self._release(key, token)

    def _count(self, result: str) -> None:
        self.stats[result] += 1
        metrics.CACHE_TOTAL.labels({"hits": "hit", "misses": "miss", "waits": "wait"}[result]).inc()

    def _thread_lock(self, key: str) -> threading.Lock:
        with self._locks_guard:
            if len(self._locks) > 10_000:
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            return self._locks.setdefault(key, threading.Lock())

    def _acquire(self, key: str) -> str | None:
        """A Redis lock for ``key``; a token when we hold it (or no Redis), None when another process does."""
        client = self.redis
        token = uuid.uuid4().hex
        if client is None:
            return token
        got = self._safe(lambda: client.set(f"pd:lock:{key}", token, nx=True, px=int(self.lock_ttl_s * 1000)), True)
        return token if got else None

    def _release(self, key: str, token: str | None) -> None:
        client = self.redis
        if client is None or token is None:
            return
        # Delete only our own lock, atomically.
        script = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
        self._safe(lambda: client.eval(script, 1, f"pd:lock:{key}", token), None)

    def _wait_for(self, key: str) -> object | None:
        deadline = time.monotonic() + self.wait_s
        client = self.redis
        while time.monotonic() < deadline:
            time.sleep(0.02)
            hit = self._safe(lambda: self.backend.get(key), None)
            if hit is not None:
                return hit
            if client is not None and not self._safe(lambda: client.exists(f"pd:lock:{key}"), 0):
                return self._safe(lambda: self.backend.get(key), None)
        return None


query_cache = QueryCache(queries)


class Generations:
    """Each data kind's generation (table data_generation), read at most once per ``max_age_s`` per process.

    Writers bump a kind in the same transaction as a change to history, so every worker and host sees it
    within ``max_age_s`` through the database, whoever wrote (importer, simulator, another host), with or
    without Redis. If the read fails the last known values are used: cached answers keep being served.
    """

    max_age_s = 1.0

    def __init__(self) -> None:
        self._values: dict[str, int] = {}
        self._read_at = float("-inf")
        self._guard = threading.Lock()

    def reset(self) -> None:
        self._values, self._read_at = {}, float("-inf")

    def current(self, engine: Engine, kinds: tuple[str, ...]) -> tuple[int, ...]:
        if time.monotonic() - self._read_at >= self.max_age_s:
            with self._guard:
                if time.monotonic() - self._read_at >= self.max_age_s:
                    self._read(engine)
        return tuple(self._values.get(k, 0) for k in kinds)

    def _read(self, engine: Engine) -> None:
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.text("select kind, generation from data_generation")).all()
            self._values = {k: int(g) for k, g in rows}
        except sa.exc.SQLAlchemyError as exc:
            log.debug("cache generations unreadable, keeping the last ones: %s", exc)
        self._read_at = time.monotonic()


generations = Generations()


def make_key(name: str, *args: object) -> str:
    """A key that holds every argument: the function's name and a hash of their reprs."""
    digest = hashlib.sha1(repr(args).encode(), usedforsecurity=False).hexdigest()
    return f"q:{name}:{digest}"


def init_app(server: Flask, settings: Settings) -> str:
    """Bind the caches to ``server``; return the cache type chosen."""
    return query_cache.init_app(server, settings)


def live_now(refresh_s: int, now: datetime | None = None) -> datetime:
    """'Now' floored to the refresh interval, so every screen asking in that interval shares one key."""
    now = now or datetime.now(UTC)
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % refresh_s, tz=UTC)


def timeout_for(end: datetime, refresh_s: int, historic_s: int, now: datetime | None = None) -> int:
    """Live windows live one refresh interval (plus a little); windows that ended in the past live longer."""
    now = now or datetime.now(UTC)
    return refresh_s + 2 if end > now - timedelta(seconds=refresh_s) else historic_s
