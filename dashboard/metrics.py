"""Prometheus metrics (multiprocess under gunicorn), the named-query timer and the slow-query log."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("dashboard.slow_query")

# Buckets from a warm cache hit (a millisecond) to a query that hits QUERY_TIMEOUT_MS.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUEST_SECONDS = Histogram(
    "pd_request_seconds", "HTTP request latency by route (Dash callbacks by their output)", ["route"], buckets=_BUCKETS
)
CACHE_TOTAL = Counter("pd_cache_total", "query cache lookups by result", ["result"])
QUERY_SECONDS = Histogram(
    "pd_query_seconds", "database time per named query (cache misses only)", ["query"], buckets=_BUCKETS
)
QUERY_ERRORS = Counter("pd_query_errors_total", "named queries that failed, by kind", ["query", "kind"])
POOL_IN_USE = Gauge("pd_pool_in_use", "connections checked out of the pool", ["engine"], multiprocess_mode="livesum")
POOL_WAIT_SECONDS = Histogram(
    "pd_pool_wait_seconds",
    "time to get a connection from the pool (with its liveness check)",
    ["engine"],
    buckets=_BUCKETS,
)
ROLLUP_LAST = Gauge(
    "pd_rollup_last_refresh_timestamp_seconds",
    "when the rollups were last brought up to date (rollup lag = time() - this)",
    multiprocess_mode="max",
)
ROLLUP_SECONDS = Histogram("pd_rollup_refresh_seconds", "time per rollup refresh", buckets=_BUCKETS)
ROLLUP_HOURS = Counter("pd_rollup_hours_total", "hours recomputed by the plain refresh", ["source"])
RETENTION_ROWS = Counter("pd_retention_deleted_rows_total", "rows deleted by retention", ["relation"])
REPLICA_LAG = Gauge(
    "pd_replica_lag_seconds", "how far the reader (standby) is behind the primary", multiprocess_mode="max"
)

# Parameter names whose values never reach a log line.
_SECRET_WORDS = ("password", "token", "secret", "hash", "key")


class _Settings:
    slow_ms = 500


_settings = _Settings()


def configure(slow_query_ms: int) -> None:
    _settings.slow_ms = slow_query_ms


def _show(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "…"


def redact(params: dict[str, object]) -> dict[str, str]:
    """Parameters as short text for a log line; any whose name suggests a secret is masked."""
    return {k: "***" if any(w in k.lower() for w in _SECRET_WORDS) else _show(v) for k, v in params.items()}


@contextmanager
def query(name: str, **params: object) -> Iterator[None]:
    """Time one named query: its histogram, its errors, and a slow-query log line with its bound parameters."""
    t0 = time.perf_counter()
    try:
        yield
    except Exception as exc:
        QUERY_ERRORS.labels(name, type(exc).__name__).inc()
        raise
    finally:
        elapsed = time.perf_counter() - t0
        QUERY_SECONDS.labels(name).observe(elapsed)
        if _settings.slow_ms and elapsed * 1000 >= _settings.slow_ms:
            log.warning("slow query %s took %.0f ms with %s", name, elapsed * 1000, redact(params))


@contextmanager
def connection(engine: Engine, label: str = "reader") -> Iterator[Connection]:
    """A pooled connection, the wait for it measured."""
    t0 = time.perf_counter()
    with engine.connect() as conn:
        POOL_WAIT_SECONDS.labels(label).observe(time.perf_counter() - t0)
        yield conn


def watch_pool(engine: Engine, label: str) -> None:
    """Count connections in use per engine, through the pool's own check-out and check-in events."""
    if getattr(engine, "_pd_watched", False):
        return
    engine._pd_watched = True  # type: ignore[attr-defined]
    gauge = POOL_IN_USE.labels(label)
    event.listen(engine, "checkout", lambda *_: gauge.inc())
    event.listen(engine, "checkin", lambda *_: gauge.dec())


def registry() -> CollectorRegistry:
    """Every process's metrics when PROMETHEUS_MULTIPROC_DIR is set (gunicorn), else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        reg = CollectorRegistry()
        multiprocess.MultiProcessCollector(reg)
        return reg
    from prometheus_client import REGISTRY

    return REGISTRY


def exposition() -> tuple[bytes, str]:
    return generate_latest(registry()), CONTENT_TYPE_LATEST
