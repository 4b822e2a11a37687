"""Questions about the state of things now: machines idle while planned, sensors beyond limits, last data per machine."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from dashboard.queries import Conn, _frame


def machine_idle(conn: Conn, now: datetime, since: datetime) -> pd.DataFrame:
    """Per machine with rows in [since, now): planned seconds without output since it last made something, counted
    only while its latest minute is planned and made nothing (a machine on a break or between shifts is not down)."""
    return _frame(
        conn,
        """with w as (select machine_id, ts, planned_s, total_count from production where ts >= :since and ts < :now),
                m as (select machine_id, max(ts) as last_ts, max(ts) filter (where total_count > 0) as last_out
                      from w group by 1)
           select m.machine_id,
                  case when bool_or(w.ts = m.last_ts and w.planned_s > 0 and w.total_count = 0)
                       then coalesce(sum(w.planned_s) filter (where w.ts > coalesce(m.last_out, '-infinity')), 0)
                       else 0 end::float8 as idle_s
           from m join w using (machine_id) group by m.machine_id order by 1""",
        now=now,
        since=since,
    )


def sensor_beyond(conn: Conn, now: datetime, since: datetime) -> pd.DataFrame:
    """Per sensor with limits and readings in [since, now): seconds its latest readings have been beyond a limit
    without a break (0 when the latest reading is within limits); readings are taken to last until the next."""
    return _frame(
        conn,
        """with w as (select t.sensor_id, t.ts,
                             coalesce(t.value < s.lo_limit, false) or coalesce(t.value > s.hi_limit, false) as beyond
                      from telemetry t join sensor s using (sensor_id)
                      where t.ts >= :since and t.ts < :now and (s.lo_limit is not null or s.hi_limit is not null)),
                m as (select sensor_id, max(ts) as last_ts, max(ts) filter (where not beyond) as last_in,
                             min(ts) filter (where beyond) as first_out
                      from w group by 1)
           select sensor_id,
                  case when last_in = last_ts then 0
                       else extract(epoch from last_ts - coalesce(last_in, first_out - interval '1 second'))
                  end::float8 as beyond_s
           from m order by 1""",
        now=now,
        since=since,
    )


def last_data(conn: Conn, now: datetime) -> pd.DataFrame:
    """Per machine, the newest production minute or sensor reading before ``now`` (NaT: none ever)."""
    return _frame(
        conn,
        """select m.machine_id, greatest(p.ts, t.ts) as last_ts
           from machine m
           left join lateral (select ts + interval '1 minute' as ts from production
                              where machine_id = m.machine_id and ts < :now order by ts desc limit 1) p on true
           left join lateral (select max(x.ts) as ts from sensor s
                              cross join lateral (select ts from telemetry
                                                  where sensor_id = s.sensor_id and ts < :now
                                                  order by ts desc limit 1) x
                              where s.machine_id = m.machine_id) t on true
           order by 1""",
        now=now,
    )
