"""Where alert messages go: an email address or a webhook, for one plant or all, from a severity up."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dashboard.alerts.rules import SEVERITIES

_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


class RouteError(ValueError):
    """A route that cannot be used; the message says why."""


@dataclass(frozen=True)
class Route:
    route_id: int
    channel: str
    target: str
    plant_id: str | None
    min_severity: str


def add(engine: Engine, channel: str, target: str, plant_id: str | None, min_severity: str = "warning") -> int:
    if channel == "email" and not _EMAIL.match(target):
        raise RouteError(f"{target[:60]!r} is not an email address")
    if channel == "webhook" and not target.startswith(("https://", "http://")):
        raise RouteError("a webhook URL must start with https:// or http://")
    if channel not in ("email", "webhook") or min_severity not in SEVERITIES:
        raise RouteError(f"channel must be email or webhook and severity one of {', '.join(SEVERITIES)}")
    with engine.begin() as conn:
        if plant_id and not conn.execute(sa.text("select 1 from plant where plant_id = :p"), {"p": plant_id}).first():
            raise RouteError(f"there is no plant {plant_id!r}")
        return conn.execute(
            sa.text("insert into alert_route (channel, target, plant_id, min_severity) values (:c, :t, :p, :s)"
                    " returning route_id"),
            {"c": channel, "t": target, "p": plant_id, "s": min_severity},
        ).scalar_one()


def load(engine: Engine) -> list[Route]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select route_id, channel, target, plant_id, min_severity from alert_route"
                                    " order by route_id"))
        return [Route(*r) for r in rows]


def remove(engine: Engine, route_id: int) -> bool:
    with engine.begin() as conn:
        return conn.execute(sa.text("delete from alert_route where route_id = :r"), {"r": route_id}).rowcount > 0
