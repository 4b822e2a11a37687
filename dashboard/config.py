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
    "ALERT_EVAL_SECONDS": ("30", "how often alert rules are evaluated (one process does it for all); 0: not here"),
    "ALERT_RETRY_SECONDS": ("30", "first wait before re-sending a refused alert message; doubles up to an hour"),
    "ALERT_BASE_URL": ("", "the dashboard's address that alert and report messages link to; empty: http://HOST:PORT"),
    "SMTP_URL": ("", "mail server: smtp://host:25, smtp+starttls://user:pw@host:587 or smtps://user:pw@host:465"),
    "SMTP_FROM": ("dashboards@localhost", "sender address of alert emails"),
    "MQTT_URL": ("", "broker of the shop-floor feed, mqtt:// or mqtts://user:password@host:port; empty: the demo tries 127.0.0.1:1883"),
    "FEED_CLIENT_ID": ("plant-dashboards-feed", "the feed's MQTT client id; its persistent session keeps what arrives while it is away"),
    "FEED_LATE_SECONDS": ("3600", "how late a feed message may arrive and still correct the minutes it belongs to"),
    "FEED_BUFFER_MESSAGES": ("200000", "messages the feed holds while the database is away; beyond that it stops reading"),
    "REPORT_CHECK_SECONDS": ("60", "how often each app process looks for due reports (one sends each); 0: not here"),
    "API_RATE_LIMIT": ("600", "REST API requests per token per minute (a fixed window; Redis when REDIS_URL is set)"),
    "METRICS_TOKEN": (
        "",
        "bearer token /metrics asks for when AUTH is on (without it /metrics is off); open when AUTH is off",
    ),
    "SLOW_QUERY_MS": ("500", "log a named query with its bound parameters when it takes longer (0: off)"),
    "QUERY_TIMEOUT_MS": (
        "15000",
        "statement_timeout of page queries; a panel that hits it says the query took too long",
    ),
    "REPLICA_LAG_SECONDS": ("10", "pages say 'as of' the standby's time when READER_DATABASE_URL lags more than this"),
    "RETAIN_RAW_DAYS": ("0", "delete 1 Hz telemetry and per-minute production older than this (0: keep forever)"),
    "RETAIN_ROLLUP_DAYS": ("0", "delete rollup rows older than this (0: keep forever; at least RETAIN_RAW_DAYS)"),
    "PROMETHEUS_MULTIPROC_DIR": (
        "",
        "where gunicorn's workers share metrics; deploy/gunicorn.conf.py sets one when empty",
    ),
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
    alert_eval_seconds: int = 30
    alert_retry_seconds: int = 30
    alert_base_url: str = ""
    smtp_url: str = field(default="", repr=False)
    smtp_from: str = "dashboards@localhost"
    mqtt_url: str = field(default="", repr=False)
    feed_client_id: str = "plant-dashboards-feed"
    feed_late_seconds: int = 3600
    feed_buffer_messages: int = 200_000
    api_rate_limit: int = 600
    report_check_seconds: int = 60
    metrics_token: str = field(default="", repr=False)
    slow_query_ms: int = 500
    query_timeout_ms: int = 15000
    replica_lag_s: int = 10
    retain_raw_days: int = 0
    retain_rollup_days: int = 0
    otif_tolerance_pct: float = 2.0
    order_delayed_days: int = 3
    order_critical_days: int = 4
    order_at_risk_days: int = 1

    @property
    def embedded(self) -> bool:
        return not self.database_url

    @property
    def base_url(self) -> str:
        return (self.alert_base_url or f"http://{self.host}:{self.port}").rstrip("/")

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
        api_rate_limit=_int("API_RATE_LIMIT", env, 1, 1_000_000),
        report_check_seconds=_int("REPORT_CHECK_SECONDS", env, 0, 86400),
        **_auth(env),
        **_alerts(env),
        **_feed(env),
        **_operations(env),
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


def _feed(env: dict[str, str]) -> dict:
    return dict(
        mqtt_url=_get("MQTT_URL", env),
        feed_client_id=_get("FEED_CLIENT_ID", env),
        feed_late_seconds=_int("FEED_LATE_SECONDS", env, 60, 7 * 86400),
        feed_buffer_messages=_int("FEED_BUFFER_MESSAGES", env, 1000, 10_000_000),
    )


def _alerts(env: dict[str, str]) -> dict:
    smtp = _get("SMTP_URL", env)
    if smtp and not smtp.startswith(("smtp://", "smtp+starttls://", "smtps://")):
        raise ConfigError("SMTP_URL must start with smtp://, smtp+starttls:// or smtps://")
    base = _get("ALERT_BASE_URL", env)
    if base and not base.startswith(("http://", "https://")):
        raise ConfigError(f"ALERT_BASE_URL must start with http:// or https://, got {base[:40]!r}")
    return dict(
        alert_eval_seconds=_int("ALERT_EVAL_SECONDS", env, 0, 3600),
        alert_retry_seconds=_int("ALERT_RETRY_SECONDS", env, 1, 3600),
        alert_base_url=base,
        smtp_url=smtp,
        smtp_from=_get("SMTP_FROM", env),
    )


def _operations(env: dict[str, str]) -> dict:
    raw, rollup = _int("RETAIN_RAW_DAYS", env, 0, 36500), _int("RETAIN_ROLLUP_DAYS", env, 0, 36500)
    if rollup and (not raw or rollup < raw):
        raise ConfigError(
            f"RETAIN_ROLLUP_DAYS ({rollup}) must be at least RETAIN_RAW_DAYS ({raw or 'forever'}): the rollups answer "
            "for the ranges raw rows no longer cover"
        )
    return dict(
        metrics_token=_get("METRICS_TOKEN", env),
        slow_query_ms=_int("SLOW_QUERY_MS", env, 0, 3_600_000),
        query_timeout_ms=_int("QUERY_TIMEOUT_MS", env, 0, 3_600_000),
        replica_lag_s=_int("REPLICA_LAG_SECONDS", env, 1, 86400),
        retain_raw_days=raw,
        retain_rollup_days=rollup,
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
