"""Fixed time tiles of one sensor level, kept in a bounded per-process cache (and Redis): zooms read tiles."""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime

import numpy as np
from flask import Flask
from flask_caching import Cache
from sqlalchemy.engine import Engine

from dashboard import metrics, queries
from dashboard.config import Settings

log = logging.getLogger(__name__)

RAW = "telemetry"
TILE_ROWS = 1440  # level rows per tile: a day of minutes, five days of 5-minute rows, 60 days of hours
RAW_TILE_S = 3600  # an hour of 1 Hz readings
LIVE_MARGIN_S = 3600  # a tile ending within the last hour may still get late rows: it lives one refresh interval


def tile_seconds(level: str) -> int:
    return RAW_TILE_S if level == RAW else TILE_ROWS * dict(queries.SENSOR_LEVELS)[level]


class TileCache:
    """Least recently used tiles up to ``max_bytes``. Tiles are a pure function of the database, shared by every
    session and rebuilt on a miss, so any worker (or a restarted one) answers any zoom the same way."""

    def __init__(
        self, max_bytes: int = 128 * 2**20, ttl_s: float = 300, live_ttl_s: float = 5, shared: object = None
    ) -> None:
        self.max_bytes, self.ttl_s, self.live_ttl_s = max_bytes, ttl_s, live_ttl_s
        self.shared = shared  # a cachelib backend (Redis) that other workers read too, or None
        self._tiles: OrderedDict[tuple, tuple[float, np.ndarray]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._shared_down_until = 0.0
        self.hits = self.misses = self.shared_hits = 0

    @property
    def nbytes(self) -> int:
        return self._bytes

    def configure(self, max_bytes: int, ttl_s: float, live_ttl_s: float, shared: object = None) -> None:
        self.max_bytes, self.ttl_s, self.live_ttl_s, self.shared = max_bytes, ttl_s, live_ttl_s, shared
        self.clear()

    def _shared_get(self, keys: list[tuple], now: float) -> dict[tuple, tuple[float, np.ndarray]]:
        if self.shared is None or not keys or now < self._shared_down_until:
            return {}
        try:
            values = self.shared.get_many(*(_shared_key(k) for k in keys))
        except Exception as exc:  # noqa: BLE001 - a shared cache that is away: read the database instead
            self._shared_failed(exc, now)
            return {}
        return {k: v for k, v in zip(keys, values, strict=True) if v is not None and v[0] > now}

    def _shared_set(self, tiles: dict[tuple, tuple[float, np.ndarray]], now: float) -> None:
        """Hand what was just read to the other workers, off the request's path: the zoom does not wait for Redis."""
        if self.shared is None or not tiles or now < self._shared_down_until:
            return
        threading.Thread(target=self._shared_write, args=(tiles, now), daemon=True, name="tile-share").start()

    def _shared_write(self, tiles: dict[tuple, tuple[float, np.ndarray]], now: float) -> None:
        by_timeout: dict[int, dict[str, tuple[float, np.ndarray]]] = {}
        for key, value in tiles.items():  # the expiry travels with the tile; Redis keeps it a second longer
            by_timeout.setdefault(max(1, int(value[0] - now) + 1), {})[_shared_key(key)] = value
        try:
            for timeout, batch in by_timeout.items():
                self.shared.set_many(batch, timeout=timeout)
        except Exception as exc:  # noqa: BLE001
            self._shared_failed(exc, now)

    def _shared_failed(self, exc: Exception, now: float) -> None:
        log.warning("shared tile cache unavailable for 5 s: %s", exc)
        self._shared_down_until = now + 5

    def clear(self) -> None:
        with self._lock:
            self._tiles.clear()
            self._bytes = 0

    def _get(self, key: tuple, now: float) -> np.ndarray | None:
        with self._lock:
            hit = self._tiles.get(key)
            if hit is None or hit[0] < now:
                self.misses += 1
                return None
            self._tiles.move_to_end(key)
            self.hits += 1
            return hit[1]

    def _put(self, key: tuple, rows: np.ndarray, expires: float) -> None:
        with self._lock:
            old = self._tiles.pop(key, None)
            if old is not None:
                self._bytes -= old[1].nbytes
            self._tiles[key] = (expires, rows)
            self._bytes += rows.nbytes
            while self._bytes > self.max_bytes and len(self._tiles) > 1:
                _, (_, dropped) = self._tiles.popitem(last=False)
                self._bytes -= dropped.nbytes

    def rows(self, engine: Engine, sensor_id: int, level: str, start: datetime, end: datetime) -> np.ndarray:
        """Rows of ``level`` in [start, end), oldest first: (epoch ms, value) for raw readings, else
        (bucket epoch ms, min, max, sum, count). Missing tiles are read with one query per run of them."""
        span = tile_seconds(level)
        first, last = math.floor(start.timestamp() / span), math.ceil(end.timestamp() / span)
        now = time.time()
        base = (engine.url.render_as_string(hide_password=True), sensor_id, level)
        parts = {k: self._get((*base, k), now) for k in range(first, last)}
        # Tiles another worker already read come from the shared cache, with the expiry they were read with.
        for key, (expires, tile) in self._shared_get([(*base, k) for k, v in parts.items() if v is None], now).items():
            self._put(key, tile, expires)
            parts[key[-1]] = tile
            self.shared_hits += 1
        read_now: dict[tuple, tuple[float, np.ndarray]] = {}
        for run in _runs([k for k, v in parts.items() if v is None]):
            a, b = run[0] * span, (run[-1] + 1) * span
            read = _read(engine, sensor_id, level, a, b)
            cuts = np.searchsorted(read[:, 0], np.arange(a, b + 1, span, dtype=np.float64) * 1000)
            for i, k in enumerate(run):
                tile = read[cuts[i] : cuts[i + 1]].copy()
                live = (k + 1) * span > now - LIVE_MARGIN_S
                expires = now + (self.live_ttl_s if live else self.ttl_s)
                self._put((*base, k), tile, expires)
                read_now[(*base, k)] = (expires, tile)
                parts[k] = tile
        self._shared_set(read_now, now)
        out = np.concatenate([parts[k] for k in range(first, last)]) if parts else np.empty((0, 2))
        lo, hi = np.searchsorted(out[:, 0], [start.timestamp() * 1000, end.timestamp() * 1000])
        return out[lo:hi]


def _shared_key(key: tuple) -> str:
    return "tile:" + hashlib.sha1(repr(key).encode()).hexdigest()


def _runs(keys: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for k in keys:
        if runs and runs[-1][-1] == k - 1:
            runs[-1].append(k)
        else:
            runs.append([k])
    return runs


def _read(engine: Engine, sensor_id: int, level: str, a: float, b: float) -> np.ndarray:
    start, end = (datetime.fromtimestamp(v, tz=UTC) for v in (a, b))
    with metrics.query(f"sensor_tile_{level}", sensor_id=sensor_id, start=start, end=end):
        if level == RAW:
            return queries.sensor_raw(engine, sensor_id, start, end)
        return queries.sensor_level(engine, sensor_id, start, end, level)


def envelope(rows: np.ndarray, bucket_s: float) -> np.ndarray:
    """Level rows (epoch ms, min, max, sum, count), or raw rows (epoch ms, value), folded into one row per
    ``bucket_s`` seconds aligned to the epoch: (bucket start ms, min, max, mean, count)."""
    if rows.shape[1] == 2:
        rows = np.column_stack([rows[:, 0], rows[:, 1], rows[:, 1], rows[:, 1], np.ones(len(rows))])
    if not len(rows):
        return np.empty((0, 5))
    w = bucket_s * 1000
    b = np.floor(rows[:, 0] / w)
    starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
    count = np.add.reduceat(rows[:, 4], starts)
    return np.column_stack(
        [
            b[starts] * w,
            np.minimum.reduceat(rows[:, 1], starts),
            np.maximum.reduceat(rows[:, 2], starts),
            np.add.reduceat(rows[:, 3], starts) / count,
            count,
        ]
    )


def shared_store(server: Flask, settings: Settings) -> object:
    """The tiles' own Redis cache (one Cache per purpose), so a tile one worker read serves every worker; None
    without REDIS_URL."""
    if not settings.redis_url:
        return None
    store.init_app(
        server,
        config={
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": settings.redis_url,
            "CACHE_KEY_PREFIX": "pd-tile:",
            "CACHE_OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        },
    )
    with server.app_context():
        return store.cache  # the backend itself, usable from any thread without an app context


store = Cache()
TILES = TileCache()
