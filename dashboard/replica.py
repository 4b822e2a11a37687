"""How far a hot standby that pages read from is behind its primary, asked at most every few seconds."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dashboard import metrics

# On a standby: 0 when it has replayed all it received (an idle primary writes nothing, so the last replayed
# transaction may be old without any lag), else the age of the last replayed transaction. NULL on a primary.
_LAG = """
select pg_is_in_recovery() as standby,
       case when not pg_is_in_recovery() then null
            when pg_last_wal_receive_lsn() is not distinct from pg_last_wal_replay_lsn() then 0
            else greatest(0, extract(epoch from now() - pg_last_xact_replay_timestamp()))::float8 end as lag_s,
       pg_last_xact_replay_timestamp() as replayed_at
"""
ASK_EVERY_S = 2.0


@dataclass(frozen=True)
class Lag:
    standby: bool
    seconds: float | None  # None on a primary, or a standby that has replayed nothing yet
    as_of: datetime | None  # the last transaction the standby replayed


_last: dict[str, tuple[float, Lag]] = {}


def measure(engine: Engine) -> Lag:
    """Ask the server now."""
    with engine.connect() as conn:
        row = conn.execute(sa.text(_LAG)).one()
    lag = Lag(bool(row.standby), None if row.lag_s is None else float(row.lag_s), row.replayed_at)
    if lag.standby and lag.seconds is not None:
        metrics.REPLICA_LAG.set(lag.seconds)
    return lag


def lag(engine: Engine) -> Lag:
    """The last answer if it is younger than ASK_EVERY_S, so a busy page does not ask on every callback."""
    key = str(engine.url)
    now = time.monotonic()
    hit = _last.get(key)
    if hit and now - hit[0] < ASK_EVERY_S:
        return hit[1]
    value = measure(engine)
    _last[key] = (now, value)
    return value


def behind(engine: Engine, threshold_s: float) -> datetime | None:
    """The standby's time when it lags more than ``threshold_s``; None on a primary or a standby in step."""
    try:
        value = lag(engine)
    except Exception:  # noqa: BLE001 - a reader that is away is the pages' own notice, not this one's
        return None
    if value.standby and value.seconds is not None and value.seconds > threshold_s:
        return value.as_of
    return None
