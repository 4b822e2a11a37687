"""Keep the rollups current: continuous aggregates on TimescaleDB, an incremental refresh on plain PostgreSQL."""

from __future__ import annotations

import atexit
import logging
import re
import sys
import threading
import time
from datetime import datetime

import sqlalchemy as sa
from psycopg2 import sql
from sqlalchemy.engine import Connection, Engine

from dashboard import cli, config, db, metrics, migrate, retention
from dashboard.kpi import PARTS

log = logging.getLogger(__name__)
_LOCK = retention.ROLLUP_LOCK  # one refresher at a time per database; others wait, then find nothing to do
_SUMS = ", ".join(f"sum({p}) as {p}" for p in PARTS)
_RAW_SUMS = """sum(planned_s), sum(run_s), sum(total_count), sum(good_count), sum(startup_rejects),
               sum(ideal_cycle_s * total_count), sum(ideal_cycle_s * good_count), sum(ideal_cycle_s * startup_rejects)"""
_COLS = ", ".join(PARTS)
_HOURS = "unnest(cast(:hours as timestamptz[])) h(hour)"

# Plain PostgreSQL: each step recomputes whole buckets inside the touched hours, finest level first.
_PLAIN_PRODUCTION = [
    f"delete from production_5m r using {_HOURS} where r.bucket >= h.hour and r.bucket < h.hour + interval '1 hour'",
    f"""insert into production_5m (machine_id, bucket, {_COLS})
        select p.machine_id, date_bin('5 minutes', p.ts, timestamptz '2000-01-01 00:00+00'), {_RAW_SUMS}
        from production p join {_HOURS} on p.ts >= h.hour and p.ts < h.hour + interval '1 hour'
        group by 1, 2""",
    f"delete from production_15m r using {_HOURS} where r.bucket >= h.hour and r.bucket < h.hour + interval '1 hour'",
    f"""insert into production_15m (machine_id, bucket, {_COLS})
        select p.machine_id, date_bin('15 minutes', p.ts, timestamptz '2000-01-01 00:00+00'), {_RAW_SUMS}
        from production p join {_HOURS} on p.ts >= h.hour and p.ts < h.hour + interval '1 hour'
        group by 1, 2""",
    "delete from production_1h where bucket = any(cast(:hours as timestamptz[]))",
    f"""insert into production_1h (machine_id, bucket, {_COLS})
        select r.machine_id, h.hour, {_SUMS}
        from production_15m r join {_HOURS} on r.bucket >= h.hour and r.bucket < h.hour + interval '1 hour'
        group by 1, 2""",
    # Plant-local days that any touched hour overlaps (an hour can straddle midnight in a +5:30 zone).
    f"""create temp table touched_days on commit drop as
        select distinct pl.tz, ((h.hour + o.o) at time zone pl.tz)::date as day
        from {_HOURS} cross join (values (interval '0'), (interval '59 minutes')) o(o)
        cross join (select distinct tz from plant) pl""",
    """delete from production_1d d using machine m, line l, plant pl, touched_days t
        where d.machine_id = m.machine_id and m.line_id = l.line_id and l.plant_id = pl.plant_id
          and pl.tz = t.tz and d.day = t.day""",
    f"""insert into production_1d (machine_id, bucket, {_COLS}, day)
        select r.machine_id, t.day::timestamp at time zone t.tz, {_SUMS}, t.day
        from touched_days t
        join plant pl on pl.tz = t.tz join line l on l.plant_id = pl.plant_id join machine m on m.line_id = l.line_id
        join production_15m r on r.machine_id = m.machine_id
             and r.bucket >= t.day::timestamp at time zone t.tz and r.bucket < (t.day + 1)::timestamp at time zone t.tz
        group by r.machine_id, t.day, t.tz""",
]
_PLAIN_TELEMETRY = [
    f"delete from telemetry_10s r using {_HOURS} where r.bucket >= h.hour and r.bucket < h.hour + interval '1 hour'",
    f"""insert into telemetry_10s (sensor_id, bucket, min, max, sum, count)
        select t.sensor_id, date_bin('10 seconds', t.ts, timestamptz '2000-01-01 00:00+00'),
               min(t.value), max(t.value), sum(t.value), count(*)
        from telemetry t join {_HOURS} on t.ts >= h.hour and t.ts < h.hour + interval '1 hour'
        group by 1, 2""",
    f"delete from telemetry_1m r using {_HOURS} where r.bucket >= h.hour and r.bucket < h.hour + interval '1 hour'",
    f"""insert into telemetry_1m (sensor_id, bucket, min, max, sum, count)
        select t.sensor_id, date_trunc('minute', t.ts), min(t.value), max(t.value), sum(t.value), count(*)
        from telemetry t join {_HOURS} on t.ts >= h.hour and t.ts < h.hour + interval '1 hour'
        group by 1, 2""",
    f"delete from telemetry_5m r using {_HOURS} where r.bucket >= h.hour and r.bucket < h.hour + interval '1 hour'",
    f"""insert into telemetry_5m (sensor_id, bucket, min, max, sum, count)
        select r.sensor_id, date_bin('5 minutes', r.bucket, timestamptz '2000-01-01 00:00+00'),
               min(r.min), max(r.max), sum(r.sum), sum(r.count)
        from telemetry_1m r join {_HOURS} on r.bucket >= h.hour and r.bucket < h.hour + interval '1 hour'
        group by 1, 2""",
    "delete from telemetry_1h where bucket = any(cast(:hours as timestamptz[]))",
    f"""insert into telemetry_1h (sensor_id, bucket, min, max, sum, count)
        select r.sensor_id, h.hour, min(r.min), max(r.max), sum(r.sum), sum(r.count)
        from telemetry_1m r join {_HOURS} on r.bucket >= h.hour and r.bucket < h.hour + interval '1 hour'
        group by 1, 2""",
]


def is_timescale(conn: Connection) -> bool:
    return migrate.timescale_enabled(conn)


def refresh(engine: Engine, raw_days: int = 0) -> dict[str, int]:
    """Bring every rollup up to date; returns hours recomputed per source (plain) or aggregates refreshed.

    With ``raw_days`` (RETAIN_RAW_DAYS) continuous aggregates are refreshed only from the raw cut-off on: a refresh
    over a range whose raw chunks were dropped would empty the aggregate there."""
    with engine.connect() as conn:
        timescale = is_timescale(conn)
        seen = _generations(conn)
    done = _refresh_timescale(engine, retention.cutoff(raw_days)) if timescale else _refresh_plain(engine)
    _settle(engine, seen)
    return done


def _generations(conn: Connection) -> dict[str, tuple[int, int]]:
    rows = conn.execute(sa.text("select kind, generation, settled from data_generation")).all()
    return {k: (g, s) for k, g, s in rows}


def _settle(engine: Engine, seen: dict[str, tuple[int, int]]) -> None:
    """A write that changed history bumped its kind before the rollups caught up, so answers cached in
    between may hold old rollups: bump once more now that they are current (a kind bumped again since
    `seen` waits for the next refresh)."""
    stale = [k for k, (g, s) in seen.items() if g != s and k in ("production", "telemetry")]
    if not stale:
        return
    with engine.begin() as conn:
        for kind in stale:
            conn.execute(
                sa.text(
                    "update data_generation set generation = generation + 1, settled = generation + 1"
                    " where kind = :k and generation = :g"
                ),
                {"k": kind, "g": seen[kind][0]},
            )


def _refresh_plain(engine: Engine) -> dict[str, int]:
    done = {}
    with engine.begin() as conn:
        conn.execute(sa.text("select pg_advisory_xact_lock(:k)"), {"k": _LOCK})
        for source, steps in (("production", _PLAIN_PRODUCTION), ("telemetry", _PLAIN_TELEMETRY)):
            hours = (
                conn.execute(sa.text("delete from rollup_invalidation where source = :s returning hour"), {"s": source})
                .scalars()
                .all()
            )
            done[source] = len(hours)
            if hours:
                for step in steps:
                    conn.execute(sa.text(step), {"hours": hours})
    return done


def _slug(tz: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", tz.lower()).strip("_")


def daily_aggregates(conn: Connection) -> dict[str, str]:
    """Plant time zone -> name of its daily continuous aggregate."""
    zones = conn.execute(sa.text("select distinct tz from plant order by tz")).scalars().all()
    return {tz: f"production_1d_{_slug(tz)}" for tz in zones}


def ensure(engine: Engine, compress_after_days: int | None = None) -> None:
    """On TimescaleDB: one daily aggregate per plant time zone, the production_1d view over them,
    and compression of raw chunks older than ``compress_after_days`` (when given)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not is_timescale(conn):
            return
        conn.execute(sa.text("select pg_advisory_lock(:k)"), {"k": _LOCK + 1})
        try:
            zones = daily_aggregates(conn)
            raw = conn.connection.driver_connection
            with raw.cursor() as cur:
                for tz, name in zones.items():
                    cur.execute(_daily_cagg(tz, name))
                    cur.execute(
                        "select add_continuous_aggregate_policy(%s, start_offset => interval '35 days',"
                        " end_offset => null, schedule_interval => interval '1 hour', if_not_exists => true)",
                        (name,),
                    )
                cur.execute(_daily_view(zones))
            if compress_after_days is not None:
                for table in ("production", "telemetry"):
                    _compression_policy(conn, table, compress_after_days)
        finally:
            conn.execute(sa.text("select pg_advisory_unlock(:k)"), {"k": _LOCK + 1})


def _compression_policy(conn: Connection, table: str, days: int) -> None:
    """Compress raw chunks past ``days``; an existing policy with another age is replaced."""
    current = conn.execute(
        sa.text(
            "select job_id, config->>'compress_after' from timescaledb_information.jobs"
            " where proc_name = 'policy_compression' and hypertable_name = :t"
        ),
        {"t": table},
    ).first()
    want = f"{days} days"
    if current and current[1] == want:
        return
    if current:
        conn.execute(sa.text("select remove_compression_policy(cast(:t as regclass))"), {"t": table})
    conn.execute(
        sa.text("select add_compression_policy(cast(:t as regclass), compress_after => make_interval(days => :d))"),
        {"t": table, "d": days},
    )


def _daily_cagg(tz: str, name: str) -> sql.Composed:
    return sql.SQL(
        "create materialized view if not exists {name}"
        " with (timescaledb.continuous, timescaledb.materialized_only = false) as"
        " select machine_id, time_bucket('1 day', bucket, {tz}) as bucket, "
        + _SUMS
        + " from production_15m group by 1, 2 with no data"
    ).format(name=sql.Identifier(name), tz=sql.Literal(tz))


def _daily_view(zones: dict[str, str]) -> sql.Composed:
    cols = sql.SQL(", ").join(sql.SQL("r.") + sql.Identifier(p) for p in PARTS)
    parts = [
        sql.SQL(
            "select r.machine_id, r.bucket, {cols}, (r.bucket at time zone pl.tz)::date as day from {name} r"
            " join machine m on m.machine_id = r.machine_id join line l on l.line_id = m.line_id"
            " join plant pl on pl.plant_id = l.plant_id and pl.tz = {tz}"
        ).format(cols=cols, name=sql.Identifier(name), tz=sql.Literal(tz))
        for tz, name in zones.items()
    ]
    if not parts:  # no plants yet: the same columns, no rows
        parts = [
            sql.SQL(
                "select r.machine_id, r.bucket, {cols}, null::date as day from production_15m r where false"
            ).format(cols=cols)
        ]
    return sql.SQL("create or replace view production_1d as ") + sql.SQL(" union all ").join(parts)


def _refresh_timescale(engine: Engine, start: datetime | None = None) -> dict[str, int]:
    # refresh_continuous_aggregate refuses to run inside a transaction block, and scheduled
    # policies fail on Debian's PostgreSQL 15.20, so the app calls it itself.
    ensure(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        daily = list(daily_aggregates(conn).values())
        order = [
            "production_5m",
            "production_15m",
            "production_1h",
            *daily,
            "telemetry_10s",
            "telemetry_1m",
            "telemetry_5m",
            "telemetry_1h",
        ]
        if not conn.execute(sa.text("select pg_try_advisory_lock(:k)"), {"k": _LOCK}).scalar_one():
            return {}
        try:
            for name in order:
                _refresh_one(conn, name, start)
        finally:
            conn.execute(sa.text("select pg_advisory_unlock(:k)"), {"k": _LOCK})
    return {name: 1 for name in order}


def _refresh_one(conn: Connection, name: str, start: datetime | None = None, tries: int = 5) -> None:
    """Refresh one aggregate; if a policy job is refreshing it right now, wait a little, then leave it to that job."""
    for attempt in range(tries):
        try:
            conn.execute(
                sa.text("call refresh_continuous_aggregate(cast(:n as regclass), cast(:s as timestamptz), null)"),
                {"n": name, "s": start},
            )
            return
        except sa.exc.OperationalError as exc:
            if getattr(exc.orig, "pgcode", None) != "55P03":  # lock_not_available
                raise
            time.sleep(0.2 * (attempt + 1))
    log.info("%s is being refreshed by another session; real-time aggregation covers the newest rows", name)


def refresh_observed(engine: Engine, raw_days: int = 0) -> dict[str, int]:
    """refresh(), its time, hours and success time in /metrics (rollup lag = now - the last success)."""
    t0 = time.perf_counter()
    done = refresh(engine, raw_days)
    metrics.ROLLUP_SECONDS.observe(time.perf_counter() - t0)
    for source in ("production", "telemetry"):
        if source in done:
            metrics.ROLLUP_HOURS.labels(source).inc(done[source])
    metrics.ROLLUP_LAST.set(time.time())
    return done


def retention_policy(settings: config.Settings) -> retention.Policy:
    return retention.Policy(settings.retain_raw_days, settings.retain_rollup_days)


def start_refresher(
    engine: Engine, interval: float, stop: threading.Event | None = None, retain: retention.Policy | None = None
) -> threading.Thread:
    """Refresh every ``interval`` seconds in a daemon thread, then apply ``retain`` (a bounded batch per pass);
    errors are logged and retried."""
    if stop is None:
        stop = threading.Event()
        atexit.register(stop.set)  # no refresh against a database that is shutting down with the process

    def run() -> None:
        while not stop.is_set():
            try:
                refresh_observed(engine, retain.raw_days if retain else 0)
                if retain is not None and retain.active:
                    retention.apply(engine, retain)
            except Exception as exc:  # noqa: BLE001 - a refresher that dies leaves rollups stale for good
                if stop.is_set():
                    break  # the process is stopping, and its database with it
                log.warning("rollup refresh failed, will retry: %s", str(exc).strip().splitlines()[0])
            stop.wait(interval)

    thread = threading.Thread(target=run, name="rollup-refresher", daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> int:
    p = cli.Parser(description="Bring the rollups up to date once, or every --every seconds.")
    p.add_argument("--database-url", help="defaults to $DATABASE_URL, or the embedded demo server")
    p.add_argument("--every", type=float, help="keep refreshing at this interval (seconds, at least 1)")
    args = p.parse_args(argv)
    if args.every is not None and not args.every >= 1:
        p.error(f"--every must be at least 1 second, got {args.every:g}")
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)

    def body() -> int:
        engine = db.create(cli.database_url(config.load(), args.database_url))
        db.check(engine)
        with engine.connect() as conn:
            if conn.execute(sa.text("select to_regclass('production_15m')")).scalar() is None:
                return cli.fail("this database has no rollups yet; run python -m dashboard.migrate first")
        while True:
            t = time.perf_counter()
            done = refresh(engine)
            print(f"refreshed {done} in {time.perf_counter() - t:.2f} s", flush=True)
            if not args.every:
                return 0
            time.sleep(args.every)

    return cli.run(body)


if __name__ == "__main__":
    sys.exit(main())
