"""Sign-in attempts counted in PostgreSQL before a password is checked, so every worker and host shares one count."""

from __future__ import annotations

import re
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

WINDOW_S = 900

# One statement: the upsert takes the row lock, so concurrent attempts each see their own number and a burst can
# never check more passwords than the limit. Old windows are swept in the same transaction.
_COUNT = sa.text(
    """insert into login_attempt (key, window_start, attempts)
       select k, to_timestamp(:start), :add from unnest(cast(:keys as text[])) as k
       on conflict (key) do update set attempts = login_attempt.attempts + excluded.attempts
       returning key, attempts"""
)
_SWEEP = sa.text("delete from login_attempt where window_start < to_timestamp(:before)")


def keys(username: str, address: str | None, now: float | None = None) -> list[str]:
    """The counters one sign-in attempt touches: its user name's and its address's, in the current window."""
    window = int((time.time() if now is None else now) // WINDOW_S)
    name = re.sub(r"[\x00-\x1f\x7f]", "?", username.lower())  # a NUL cannot go into a text column, but counts
    return [f"{window}:u:{name}", f"{window}:ip:{address or '-'}"]


def add(engine: Engine, counters: list[str], amount: int = 1) -> dict[str, int]:
    """Add ``amount`` to each counter and return the new counts (a negative amount gives an attempt back)."""
    window = int(counters[0].split(":", 1)[0])
    with engine.begin() as conn:
        conn.execute(_SWEEP, {"before": (window - 1) * WINDOW_S})
        rows = conn.execute(_COUNT, {"keys": counters, "start": window * WINDOW_S, "add": amount}).all()
    return {k: int(n) for k, n in rows}
