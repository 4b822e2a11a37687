"""The one place that reads the environment: every setting, its default and its meaning."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name -> (default, meaning). The README's configuration table is written from this.
VARIABLES: dict[str, tuple[str, str]] = {
    "DATABASE_URL": ("", "PostgreSQL/TimescaleDB to use; empty starts the embedded demo server"),
    "REDIS_URL": ("", "Redis for the shared cache; empty uses a per-process cache"),
    "HOST": ("127.0.0.1", "address `python app.py` listens on"),
    "PORT": ("8050", "port `python app.py` listens on"),
    "REFRESH_SECONDS": ("5", "how often pages refresh live data (minimum 2)"),
    "WALL_REFRESH_SECONDS": ("15", "how often wall screens refresh (minimum 5)"),
    "OEE_TARGET": ("85", "OEE target in percent, drawn on every OEE chart"),
    "DEMO": ("auto", "seed and stream simulated data: auto (only on the embedded server), 1, 0"),
    "DEMO_SEED": ("42", "random seed of the simulator"),
    "DEMO_DAYS": ("14", "days of history the demo backfills"),
    "DEMO_PLANTS": ("3", "plants the demo simulates (1-6)"),
    "DEMO_MACHINES": ("40", "machines the demo simulates across all plants"),
    "DATA_DIR": (str(ROOT / ".data"), "where the embedded PostgreSQL keeps its files"),
    "TIMESCALEDB": ("auto", "use the timescaledb extension: auto (when installed), 1, 0"),
    "CACHE_TIMEOUT": ("300", "seconds a cached answer for a historic window lives"),
    "TILE_CACHE_MB": ("128", "memory per process for the sensor explorer's shared tiles"),
    "COMPRESS_AFTER_DAYS": ("7", "TimescaleDB only: compress raw chunks older than this many days"),
    "LOG_LEVEL": ("INFO", "logging level"),
    "AUTH": ("off", "sign-in: off (everyone sees every plant), password (login page), header (a proxy's user header)"),
    "AUTH_HEADER": ("X-Forwarded-User", "header mode: the header the reverse proxy sets to the signed-in user"),
    "SECRET_KEY": ("", "signs session cookies; required when AUTH is not off"),
    "SESSION_HOURS": ("12", "a sign-in lasts this many hours"),
    "LOGIN_ATTEMPTS": ("5", "failed sign-ins per user (and 4x that per address) allowed in 15 minutes"),
    "TRUSTED_PROXIES": (
        "0",
        "reverse proxies in front whose X-Forwarded-For/Proto are believed (HTTPS cookies, rate limits)",
    ),
    "READER_DATABASE_URL": ("", "pages read through this login role; empty: DATABASE_URL with role plant_reader"),
    "OTIF_TOLERANCE_PCT": (
        "2",
        "an order line is in full when it shipped at least the ordered quantity less this percent",
    ),
    "ORDER_DELAYED_DAYS": ("3", "orders page: a lead time over this many days is drawn as delayed"),
    "ORDER_CRITICAL_DAYS": ("4", "orders page: a lead time over this many days is drawn as critical"),
    "ORDER_AT_RISK_DAYS": ("1", "an open order not yet produced and promised within this many days is at risk"),
}


def _get(name: str, env: dict[str, str]) -> str:
    return env.get(name, VARIABLES[name][0]).strip()


def _int(name: str, env: dict[str, str], lo: int, hi: int) -> int:
    raw = _get(name, env)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def _tristate(name: str, env: dict[str, str]) -> bool | None:
    raw = _get(name, env).lower()
    if raw in ("auto", ""):
        return None
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be auto, 1 or 0, got {raw!r}")


class ConfigError(ValueError):
    """A setting in the environment that cannot be used."""


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default="", repr=False)
    redis_url: str = field(default="", repr=False)
    host: str = "127.0.0.1"
    port: int = 8050
    refresh_seconds: int = 5
    wall_refresh_seconds: int = 15
    oee_target: float = 0.85
    demo: bool | None = None
    demo_seed: int = 42
    demo_days: int = 14
    demo_plants: int = 3
    demo_machines: int = 40
    data_dir: Path = field(default_factory=lambda: ROOT / ".data")
    timescaledb: bool | None = None
    cache_timeout: int = 300
    tile_cache_mb: int = 128
    compress_after_days: int = 7
    log_level: str = "INFO"
    auth: str = "off"
    auth_header: str = "X-Forwarded-User"
    secret_key: str = field(default="", repr=False)
    session_hours: int = 12
    login_attempts: int = 5
    reader_database_url: str = field(default="", repr=False)
    trusted_proxies: int = 0
    otif_tolerance_pct: float = 2.0
    order_delayed_days: int = 3
    order_critical_days: int = 4
    order_at_risk_days: int = 1

    @property
    def embedded(self) -> bool:
        return not self.database_url

    @property
    def seed_demo(self) -> bool:
        return self.embedded if self.demo is None else self.demo


def load(env: dict[str, str] | None = None) -> Settings:
    """Read every setting from ``env`` (the process environment by default)."""
    env = dict(os.environ if env is None else env)
    return Settings(
        database_url=_get("DATABASE_URL", env),
        redis_url=_get("REDIS_URL", env),
        host=_get("HOST", env),
        port=_int("PORT", env, 1, 65535),
        refresh_seconds=_int("REFRESH_SECONDS", env, 2, 3600),
        wall_refresh_seconds=_int("WALL_REFRESH_SECONDS", env, 5, 3600),
        oee_target=_int("OEE_TARGET", env, 1, 100) / 100,
        demo=_tristate("DEMO", env),
        demo_seed=_int("DEMO_SEED", env, 0, 2**31 - 1),
        demo_days=_int("DEMO_DAYS", env, 1, 3660),
        demo_plants=_int("DEMO_PLANTS", env, 1, 6),
        demo_machines=_int("DEMO_MACHINES", env, 1, 2000),
        data_dir=Path(_get("DATA_DIR", env)),
        timescaledb=_tristate("TIMESCALEDB", env),
        cache_timeout=_int("CACHE_TIMEOUT", env, 1, 7 * 86400),
        tile_cache_mb=_int("TILE_CACHE_MB", env, 1, 1 << 20),
        compress_after_days=_int("COMPRESS_AFTER_DAYS", env, 1, 3650),
        log_level=_get("LOG_LEVEL", env).upper() or "INFO",
        **_auth(env),
        **_orders(env),
    )


def _orders(env: dict[str, str]) -> dict:
    delayed = _int("ORDER_DELAYED_DAYS", env, 1, 365)
    critical = _int("ORDER_CRITICAL_DAYS", env, 1, 365)
    if critical < delayed:
        raise ConfigError(f"ORDER_CRITICAL_DAYS ({critical}) must be at least ORDER_DELAYED_DAYS ({delayed})")
    return dict(
        otif_tolerance_pct=float(_int("OTIF_TOLERANCE_PCT", env, 0, 50)),
        order_delayed_days=delayed,
        order_critical_days=critical,
        order_at_risk_days=_int("ORDER_AT_RISK_DAYS", env, 0, 90),
    )


def _auth(env: dict[str, str]) -> dict:
    auth = _get("AUTH", env).lower() or "off"
    if auth not in ("off", "password", "header"):
        raise ConfigError(f"AUTH must be off, password or header, got {auth!r}")
    secret = _get("SECRET_KEY", env)
    if auth != "off" and len(secret) < 16:
        raise ConfigError("SECRET_KEY must be set to at least 16 characters when AUTH is on")
    return dict(
        auth=auth,
        auth_header=_get("AUTH_HEADER", env),
        secret_key=secret,
        session_hours=_int("SESSION_HOURS", env, 1, 24 * 90),
        login_attempts=_int("LOGIN_ATTEMPTS", env, 1, 1000),
        reader_database_url=_get("READER_DATABASE_URL", env),
        trusted_proxies=_int("TRUSTED_PROXIES", env, 0, 10),
    )
