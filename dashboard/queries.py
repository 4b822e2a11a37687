"""One function per question: SQL with bound parameters in, DataFrame out; no Dash, no cache."""

from __future__ import annotations

import io
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dashboard import db
from dashboard.kpi import PARTS

Conn = Connection | Engine
SUMS = ", ".join(f"sum(r.{p})::float8 as {p}" for p in PARTS)
# Production levels, coarsest first: (relation, bucket seconds). production_1m is the raw table as a view.
LEVELS = [("production_1h", 3600), ("production_15m", 900), ("production_5m", 300), ("production_1m", 60)]
RAW = [LEVELS[-1]]
GROUPS = {"all": "'all'", "plant": "l.plant_id", "line": "m.line_id", "machine": "r.machine_id"}
NICE_BUCKETS = [60, 300, 900, 1800, 3600, 7200, 10800, 21600, 43200]


@dataclass(frozen=True)
class Scope:
    """Which machines a question is about; None means all. Always bound, never formatted into SQL."""

    plants: tuple[str, ...] | None = None
    lines: tuple[str, ...] | None = None
    machines: tuple[str, ...] | None = None

    def params(self) -> dict[str, list[str] | None]:
        as_list = lambda v: list(v) if v is not None else None  # noqa: E731
        return {"plants": as_list(self.plants), "lines": as_list(self.lines), "machines": as_list(self.machines)}


ALL = Scope()
_JOIN = "join machine m on m.machine_id = r.machine_id join line l on l.line_id = m.line_id"
_WHERE = """(cast(:plants as text[]) is null or l.plant_id = any(cast(:plants as text[])))
    and (cast(:lines as text[]) is null or m.line_id = any(cast(:lines as text[])))
    and (cast(:machines as text[]) is null or r.machine_id = any(cast(:machines as text[])))"""


def _frame(conn: Conn, query: str, **params: object) -> pd.DataFrame:
    return pd.read_sql(sa.text(query), conn, params=params)


def _epoch(ts: datetime) -> float:
    return ts.timestamp()


def pieces(
    start: datetime, end: datetime, levels: list[tuple[str, int]] = LEVELS, raw_from: datetime | None = None
) -> list[tuple[str, datetime, datetime]]:
    """Cover [start, end) with the coarsest whole buckets: the middle from hours, the ragged ends from finer levels.

    Before ``raw_from`` (where retention deleted the raw rows) the finest level is the finest rollup (5 minutes),
    and the range is widened to whole buckets of it there."""
    if raw_from is not None and start < raw_from and len(levels) > 1:
        width = levels[-2][1]
        split = min(raw_from, end)
        lo = datetime.fromtimestamp(_epoch(start) // width * width, tz=start.tzinfo)
        hi = split if split == raw_from else datetime.fromtimestamp(-(-_epoch(split) // width) * width, tz=end.tzinfo)
        return pieces(lo, hi, levels[:-1]) + (pieces(split, end, levels) if split < end else [])
    (rel, width), finer = levels[0], levels[1:]
    lo = datetime.fromtimestamp(-(-_epoch(start) // width) * width, tz=start.tzinfo)
    hi = datetime.fromtimestamp(_epoch(end) // width * width, tz=end.tzinfo)
    if not finer:
        return [(rel, start, end)] if start < end else []
    if lo >= hi:
        return pieces(start, end, finer)
    return pieces(start, lo, finer) + [(rel, lo, hi)] + pieces(hi, end, finer)


def _union(spans: list[tuple[str, datetime, datetime]], select: str) -> tuple[str, dict]:
    parts, params = [], {}
    for i, (rel, lo, hi) in enumerate(spans):
        parts.append(f"{select.format(rel=rel)} and r.bucket >= :lo{i} and r.bucket < :hi{i}")
        params |= {f"lo{i}": lo, f"hi{i}": hi}
    return " union all ".join(parts), params


def oee_totals(
    conn: Conn,
    start: datetime,
    end: datetime,
    group: str = "all",
    scope: Scope = ALL,
    raw: bool = False,
    tz: str | None = None,
    raw_from: datetime | None = None,
) -> pd.DataFrame:
    """Summed OEE parts per group over [start, end), from the coarsest rollups that fit exactly. With ``tz`` (every
    machine in scope is in plants of that zone) whole plant-local days come from the daily rollup; before
    ``raw_from`` (where retention deleted the raw rows) the finest level is the next rollup up."""
    key = GROUPS[group]
    if raw:
        spans = pieces(start, end, RAW)
    elif tz:
        spans = day_pieces(start, end, tz, raw_from)
    else:
        spans = pieces(start, end, LEVELS, raw_from)
    if not spans:
        return pd.DataFrame(columns=["key", *PARTS])
    cols = ", ".join(f"r.{p}" for p in PARTS)
    inner, params = _union(spans, f"select {key} as key, {cols} from {{rel}} r {_JOIN} where {_WHERE}")
    sums = ", ".join(f"sum({p})::float8 as {p}" for p in PARTS)
    return _frame(conn, f"select key, {sums} from ({inner}) u group by key order by key", **params, **scope.params())


def day_pieces(
    start: datetime, end: datetime, tz: str, raw_from: datetime | None = None
) -> list[tuple[str, datetime, datetime]]:
    """Like pieces(), with the whole plant-local days inside [start, end) from production_1d, whose bucket is the
    instant of the plant's midnight (23 or 25 hours apart across a daylight-saving change)."""
    first, last = _midnight(start, tz, after=True), _midnight(end, tz, after=False)
    if first >= last:
        return pieces(start, end, LEVELS, raw_from)
    return pieces(start, first, LEVELS, raw_from) + [("production_1d", first, last)] + pieces(last, end, LEVELS, raw_from)


def _midnight(at: datetime, tz: str, after: bool) -> datetime:
    """The plant's first midnight at or after ``at`` (or the last at or before it), as a UTC instant."""
    local = pd.Timestamp(at).tz_convert(tz)
    day = local.date() + timedelta(days=1) if after and local != local.normalize() else local.date()
    # Where a zone skips midnight the day starts at the first instant that exists, as the rollup buckets it.
    midnight = pd.Timestamp(day).tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return midnight.tz_convert("UTC").to_pydatetime()


def oee_series(
    conn: Conn,
    start: datetime,
    end: datetime,
    bucket_s: int,
    group: str = "all",
    scope: Scope = ALL,
    raw: bool = False,
    raw_from: datetime | None = None,
) -> pd.DataFrame:
    """OEE parts per UTC-aligned bucket of ``bucket_s`` seconds and group; a bucket with no rows is absent. A window
    reaching before ``raw_from`` (raw rows deleted by retention) gets buckets of at least the finest rollup's width."""
    if bucket_s % 60:
        raise ValueError("bucket_s must be a whole number of minutes")
    if not raw and raw_from is not None and start < raw_from and bucket_s % LEVELS[-2][1]:
        bucket_s = max(LEVELS[-2][1], bucket_s // LEVELS[-2][1] * LEVELS[-2][1])
    rel = RAW[0][0] if raw else next(r for r, w in LEVELS if bucket_s % w == 0)
    lo = datetime.fromtimestamp(_epoch(start) // bucket_s * bucket_s, tz=start.tzinfo)
    hi = datetime.fromtimestamp(-(-_epoch(end) // bucket_s) * bucket_s, tz=end.tzinfo)
    return _frame(
        conn,
        f"""select to_timestamp(floor(extract(epoch from r.bucket) / :w) * :w) as bucket, {GROUPS[group]} as key, {SUMS}
            from {rel} r {_JOIN}
            where r.bucket >= :lo and r.bucket < :hi and {_WHERE}
            group by 1, 2 order by 1, 2""",
        w=bucket_s,
        lo=lo,
        hi=hi,
        **scope.params(),
    )


def oee_daily(conn: Conn, first: date, last: date, group: str = "all", scope: Scope = ALL) -> pd.DataFrame:
    """OEE parts per plant-local day from ``first`` to ``last`` inclusive: each plant's days start at its own midnight."""
    return _frame(
        conn,
        f"""select r.day, {GROUPS[group]} as key, {SUMS}
            from production_1d r {_JOIN}
            where r.day >= :first and r.day <= :last and {_WHERE}
            group by 1, 2 order by 1, 2""",
        first=first,
        last=last,
        **scope.params(),
    )


def oee_daily_raw(conn: Conn, first: date, last: date, group: str = "all", scope: Scope = ALL) -> pd.DataFrame:
    """The same answer as oee_daily straight from raw rows: for checking the rollups."""
    return _frame(
        conn,
        f"""select (r.bucket at time zone pl.tz)::date as day, {GROUPS[group]} as key, {SUMS}
            from production_1m r {_JOIN} join plant pl on pl.plant_id = l.plant_id
            where (r.bucket at time zone pl.tz)::date between :first and :last and {_WHERE}
            group by 1, 2 order by 1, 2""",
        first=first,
        last=last,
        **scope.params(),
    )


def choose_bucket(start: datetime, end: datetime, max_points: int) -> int | str:
    """The finest nice bucket that keeps the series within ``max_points``: seconds, or 'day'/'week' (plant-local)."""
    span = (end - start).total_seconds()
    for width in NICE_BUCKETS:
        if span / width <= max_points:
            return width
    return "day" if span / 86400 <= max_points else "week"


def plants(conn: Conn) -> pd.DataFrame:
    """Every plant with its time zone."""
    return _frame(conn, "select plant_id, name, tz from plant order by plant_id")


def data_start(conn: Conn) -> pd.DataFrame:
    """Each plant's first production minute (one index probe per machine), to say where a range has no data."""
    return _frame(
        conn,
        """select l.plant_id, min(f.first_ts) as first_ts
           from machine m join line l using (line_id)
           cross join lateral (select min(p.ts) as first_ts from production p where p.machine_id = m.machine_id) f
           group by 1 order by 1""",
    )


def hierarchy(conn: Conn) -> pd.DataFrame:
    """Every machine with its line and plant."""
    return _frame(
        conn,
        """select pl.plant_id, pl.name as plant, pl.tz, l.line_id, l.name as line, m.machine_id, m.name as machine,
                  m.ideal_cycle_s
           from machine m join line l using (line_id) join plant pl using (plant_id)
           order by pl.plant_id, l.line_id, m.machine_id""",
    )


def downtime_by_reason(conn: Conn, start: datetime, end: datetime, scope: Scope = ALL) -> pd.DataFrame:
    """Seconds of downtime per reason within [start, end) (events clipped to the range), largest first."""
    return _frame(
        conn,
        f"""select d.reason_code, dr.label, dr.category, count(*) as events,
                   sum(extract(epoch from least(d.end_ts, :end) - greatest(d.start_ts, :start)))::float8 as seconds
            from downtime d join downtime_reason dr using (reason_code)
            join machine m on m.machine_id = d.machine_id join line l on l.line_id = m.line_id
            cross join lateral (select d.machine_id) r(machine_id)
            where d.start_ts < :end and d.end_ts > :start
              and d.start_ts > cast(:start as timestamptz) - interval '2 days' and {_WHERE}
            group by 1, 2, 3 order by seconds desc""",
        start=start,
        end=end,
        **scope.params(),
    )


def inventory_status(
    conn: Conn, at: datetime, plants_: tuple[str, ...] | None = None, window_days: int = 7
) -> pd.DataFrame:
    """Per plant and material at ``at``: on hand, average daily use over the window before, days of cover, value."""
    return _frame(
        conn,
        """with last as (
               select distinct on (plant_id, material_id) plant_id, material_id, on_hand, ts
               from inventory_level where ts <= :at
                 and (cast(:plants as text[]) is null or plant_id = any(cast(:plants as text[])))
               order by plant_id, material_id, ts desc),
           used as (
               select plant_id, material_id, sum(qty)::float8 / :days as daily_use
               from inventory_movement
               where kind = 'consumption' and ts > cast(:at as timestamptz) - make_interval(days => :days) and ts <= :at
               group by 1, 2)
           select s.plant_id, s.material_id, mt.name, mt.unit, mt.unit_cost::float8 as unit_cost,
                  l.on_hand, l.ts as as_of, coalesce(u.daily_use, 0) as daily_use,
                  case when coalesce(u.daily_use, 0) > 0 then l.on_hand / u.daily_use end as days_of_cover,
                  s.reorder_point, s.safety_stock, s.lead_time_days,
                  l.on_hand <= s.reorder_point as below_reorder,
                  l.on_hand * mt.unit_cost::float8 as value
           from stock_policy s join material mt using (material_id)
           join last l on l.plant_id = s.plant_id and l.material_id = s.material_id
           left join used u on u.plant_id = s.plant_id and u.material_id = s.material_id
           order by days_of_cover nulls last, s.plant_id, s.material_id""",
        at=at,
        plants=list(plants_) if plants_ is not None else None,  # (): none at all
        days=window_days,
    )


def shifts(conn: Conn) -> pd.DataFrame:
    """Shift start times (plant-local wall clock) per plant."""
    return _frame(
        conn, "select plant_id, name, to_char(starts, 'HH24:MI') as starts, hours::float8 from shift order by 1, 3"
    )


def inventory_levels(
    conn: Conn, start: datetime, end: datetime, plants_: tuple[str, ...] | None, material: str
) -> pd.DataFrame:
    """On-hand snapshots of one material per plant over [start, end), with its reorder point and safety stock."""
    return _frame(
        conn,
        """select i.plant_id, i.ts, i.on_hand, s.reorder_point, s.safety_stock
           from inventory_level i join stock_policy s using (plant_id, material_id)
           where i.material_id = :material and i.ts >= :start and i.ts < :end
             and (cast(:plants as text[]) is null or i.plant_id = any(cast(:plants as text[])))
           order by i.plant_id, i.ts""",
        start=start,
        end=end,
        material=material,
        plants=list(plants_) if plants_ is not None else None,  # (): none at all
    )


def inventory_flows(
    conn: Conn, start: datetime, end: datetime, plants_: tuple[str, ...] | None, tz: str
) -> pd.DataFrame:
    """Consumption and receipts per day (in ``tz``) and kind, in money (quantity x unit cost)."""
    return _frame(
        conn,
        """select (mv.ts at time zone cast(:tz as text))::date as day, mv.kind,
                  sum(mv.qty * mt.unit_cost)::float8 as value
           from inventory_movement mv join material mt using (material_id)
           where mv.ts >= :start and mv.ts < :end and mv.kind in ('consumption', 'receipt')
             and (cast(:plants as text[]) is null or mv.plant_id = any(cast(:plants as text[])))
           group by 1, 2 order by 1, 2""",
        start=start,
        end=end,
        tz=tz,
        plants=list(plants_) if plants_ is not None else None,  # (): none at all
    )


def inventory_daily(
    conn: Conn, start: datetime, end: datetime, plants_: tuple[str, ...] | None, tz: str
) -> pd.DataFrame:
    """Per day in ``tz``: stock value and materials at or below their reorder point at the day's last snapshot, and
    value consumed that day, over (start, end]."""
    return _frame(
        conn,
        """with lv as (
               select distinct on (d.day, i.plant_id, i.material_id) d.day, i.plant_id, i.material_id, i.on_hand
               from inventory_level i
               cross join lateral (select (i.ts at time zone cast(:tz as text))::date as day) d
               where i.ts > :start and i.ts <= :end
                 and (cast(:plants as text[]) is null or i.plant_id = any(cast(:plants as text[])))
               order by d.day, i.plant_id, i.material_id, i.ts desc),
           val as (
               select lv.day, sum(lv.on_hand * mt.unit_cost)::float8 as value,
                      count(*) filter (where lv.on_hand <= s.reorder_point) as below
               from lv join material mt using (material_id)
               join stock_policy s on s.plant_id = lv.plant_id and s.material_id = lv.material_id
               group by 1),
           used as (
               select (mv.ts at time zone cast(:tz as text))::date as day, sum(mv.qty * mt.unit_cost)::float8 as use_value
               from inventory_movement mv join material mt using (material_id)
               where mv.kind = 'consumption' and mv.ts > :start and mv.ts <= :end
                 and (cast(:plants as text[]) is null or mv.plant_id = any(cast(:plants as text[])))
               group by 1)
           select day, coalesce(value, 0) as value, coalesce(use_value, 0) as use_value, coalesce(below, 0) as below
           from val full join used using (day) order by day""",
        start=start,
        end=end,
        tz=tz,
        plants=list(plants_) if plants_ is not None else None,  # (): none at all
    )


def materials(conn: Conn) -> pd.DataFrame:
    return _frame(conn, "select material_id, name, unit, unit_cost::float8 from material order by material_id")


def sensors(conn: Conn) -> pd.DataFrame:
    """Every sensor with its machine, plant time zone, unit and limits."""
    return _frame(
        conn,
        """select s.sensor_id, s.machine_id, s.kind, s.unit, s.lo_limit, s.hi_limit, l.plant_id, pl.tz
           from sensor s join machine m using (machine_id) join line l using (line_id) join plant pl using (plant_id)
           order by s.machine_id, s.sensor_id""",
    )


# Telemetry levels, finest first: (relation, seconds per row).
SENSOR_LEVELS = [
    ("telemetry", 1),
    ("telemetry_10s", 10),
    ("telemetry_1m", 60),
    ("telemetry_5m", 300),
    ("telemetry_1h", 3600),
]


_PG_EPOCH_MS = 946_684_800_000.0  # PostgreSQL counts timestamps in microseconds from 2000-01-01 UTC
_BINARY = {"t": ">i8", "f": ">f8", "i": ">i8"}


def _arrays(conn: Conn, query: str, kinds: str, **params: object) -> np.ndarray:
    """Rows as one float64 array, a column per letter of ``kinds`` (t: timestamptz as epoch ms, f: float8, i: int8).

    Streamed with binary COPY and read by numpy in one go: the server formats no text and no Python object is made
    per row (46,800 readings: 45 ms by fetchall, 25 by text COPY and pandas, 9 this way)."""
    with conn.connect() if isinstance(conn, Engine) else nullcontext(conn) as c:
        cur = c.connection.dbapi_connection.cursor()
        try:
            bound = cur.mogrify(query, params).decode()  # the driver's own parameter binding, as execute() does
            buf = io.BytesIO()
            with db.copy_allowed():  # gevent workers: see db.copy_allowed
                cur.copy_expert(f"copy ({bound}) to stdout with (format binary)", buf)
        finally:
            cur.close()
    raw = buf.getvalue()
    start = 19 + int.from_bytes(raw[15:19], "big")  # signature, flags, header extension
    fields = [("n", ">i2")]
    for i, k in enumerate(kinds):
        fields += [(f"len{i}", ">i4"), (f"v{i}", _BINARY[k])]
    rows = np.frombuffer(
        raw, dtype=np.dtype(fields), offset=start, count=(len(raw) - start - 2) // (2 + 12 * len(kinds))
    )
    if len(rows) and not all((rows[f"len{i}"] == 8).all() for i in range(len(kinds))):
        raise ValueError("a NULL or a wider column in a sensor query; every column must be 8 bytes")
    out = np.empty((len(rows), len(kinds)))
    for i, k in enumerate(kinds):
        out[:, i] = rows[f"v{i}"] / 1000.0 + _PG_EPOCH_MS if k == "t" else rows[f"v{i}"]
    return out


def sensor_raw(conn: Conn, sensor_id: int, start: datetime, end: datetime, limit: int = 10_000_000) -> np.ndarray:
    """Raw readings in [start, end), oldest first, as rows of (epoch ms, value); at most ``limit`` of them."""
    return _arrays(
        conn,
        "select ts, value::float8 from telemetry where sensor_id = %(s)s and ts >= %(a)s and ts < %(b)s"
        " order by ts limit %(n)s",
        "tf",
        n=limit,
        s=sensor_id,
        a=start,
        b=end,
    )


def sensor_level(conn: Conn, sensor_id: int, start: datetime, end: datetime, level: str) -> np.ndarray:
    """Rows of one rollup level in [start, end), oldest first: (bucket epoch ms, min, max, sum, count)."""
    if level not in {rel for rel, _ in SENSOR_LEVELS[1:]}:
        raise ValueError(f"unknown sensor level {level!r}")
    return _arrays(
        conn,
        f"""select bucket, min::float8, max::float8, sum::float8, count::int8
            from {level} where sensor_id = %(s)s and bucket >= %(a)s and bucket < %(b)s order by bucket""",
        "tfffi",
        s=sensor_id,
        a=start,
        b=end,
    )
