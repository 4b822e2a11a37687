"""Requests per API token in fixed one-minute windows: counted in Redis when REDIS_URL is set, else in PostgreSQL,
so every worker and host shares one count."""

from __future__ import annotations

import logging
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dashboard import cache

log = logging.getLogger(__name__)
WINDOW_S = 60

_COUNT = sa.text(
    """insert into api_rate (key, window_start, hits) values (:k, to_timestamp(:start), 1)
       on conflict (key) do update set hits = api_rate.hits + 1 returning hits"""
)
_SWEEP = sa.text("delete from api_rate where window_start < to_timestamp(:before)")


def hit(owner: Engine, token: str, now: float | None = None) -> tuple[int, int]:
    """Count one request for ``token``; (requests in this window so far, seconds until the window ends)."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_S)
    key, left = f"api:{token}:{window}", WINDOW_S - int(now % WINDOW_S)
    client = cache.query_cache.redis
    if client is not None:
        try:
            pipe = client.pipeline()
            pipe.incr(key)
            pipe.expire(key, 2 * WINDOW_S)
            return int(pipe.execute()[0]), left
        except Exception as exc:  # noqa: BLE001 - Redis away: PostgreSQL counts instead
            log.warning("rate limit: Redis unavailable (%s); counting in PostgreSQL", type(exc).__name__)
    with owner.begin() as conn:
        # A counter lost in a crash costs nothing, so this commit does not wait for the disk (as Redis would not).
        conn.execute(sa.text("set local synchronous_commit to off"))
        if window % 5 == 0:  # old windows swept now and then, not on every request
            conn.execute(_SWEEP, {"before": (window - 1) * WINDOW_S})
        return int(conn.execute(_COUNT, {"k": key, "start": window * WINDOW_S}).scalar_one()), left
