"""Who is asking and which plants they may see: every query in dashboard.data is narrowed to this scope."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
from flask import g, has_request_context

from dashboard.queries import Scope


@dataclass(frozen=True)
class Principal:
    name: str
    plants: frozenset[str] | None = None  # None: every plant
    views: frozenset[str] | None = None  # a wall token's slides; None: every view
    wall: bool = False  # a wall screen's token, not a person: it may open /wall only
    generation: int = 0  # a person's sessions from an older generation have ended (sign out, new password)


EVERYONE = Principal("everyone")
NOBODY = Principal("nobody", frozenset(), frozenset())


class _State:
    enabled = False


_state = _State()


def enable(on: bool) -> None:
    """Turn enforcement on (AUTH is not off): a request without a principal then sees nothing."""
    _state.enabled = on


def current() -> Principal:
    if not has_request_context():
        return EVERYONE  # the app's own background work (refresh, demo, reports), which serves no person
    # An API token's principal holds even when AUTH is off: the API checks its tokens whatever AUTH says.
    return g.get("principal", NOBODY if _state.enabled else EVERYONE)


def set_current(principal: Principal) -> None:
    g.principal = principal


def plants(requested: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The plants a query may touch: what was asked for, narrowed to what the principal may see (None: all)."""
    allowed = current().plants
    if allowed is None:
        return requested
    if requested is None:
        return tuple(sorted(allowed))
    return tuple(p for p in requested if p in allowed)


def scope(s: Scope) -> Scope:
    return replace(s, plants=plants(s.plants))


def rows(frame: pd.DataFrame, column: str = "plant_id") -> pd.DataFrame:
    """Only the rows of plants the principal may see."""
    allowed = current().plants
    if allowed is None:
        return frame
    return frame[frame[column].isin(allowed)].reset_index(drop=True)


def view_allowed(view: str) -> bool:
    views = current().views
    return views is None or view in views
