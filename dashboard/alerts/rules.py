"""Alert rules: the kinds there are, what their numbers mean, and reading and writing them in the database."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, fields

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class Kind:
    label: str
    unit: str  # how the value and threshold read: ratio (0-1), seconds, or a multiple
    below: bool  # breaching means below the threshold (else at or above it)
    subjects: tuple[str, ...]  # subject types a rule of this kind may name
    per: str  # what one instance is about: the named subject itself ('self'), or each machine/sensor/stock in it
    page: str  # the page that shows the problem
    default_threshold: float


_PLM = ("plant", "line", "machine")
KINDS: dict[str, Kind] = {
    "oee": Kind("OEE", "ratio", True, _PLM, "self", "/oee", 0.6),
    "availability": Kind("Availability", "ratio", True, _PLM, "self", "/oee", 0.8),
    "performance": Kind("Performance", "ratio", True, _PLM, "self", "/oee", 0.8),
    "quality": Kind("Quality", "ratio", True, _PLM, "self", "/oee", 0.95),
    "machine_down": Kind("Machine down", "seconds", False, _PLM, "machine", "/oee", 900),
    "sensor_limit": Kind("Sensor beyond limit", "seconds", False, (*_PLM, "sensor"), "sensor", "/explorer", 30),
    "stock_reorder": Kind("Below reorder point", "multiple", True, ("plant", "material"), "stock", "/inventory", 1),
    "stock_safety": Kind("Below safety stock", "multiple", True, ("plant", "material"), "stock", "/inventory", 1),
    "stock_cover": Kind("Cover shorter than lead time", "multiple", True, ("plant", "material"), "stock",
                        "/inventory", 1),
    "no_data": Kind("No data", "seconds", False, _PLM, "machine", "/explorer", 600),
}


@dataclass(frozen=True)
class Rule:
    rule_id: int
    name: str
    kind: str
    subject_type: str
    subject_id: str | None = None
    plant_id: str | None = None
    threshold: float | None = None
    window_s: int = 3600
    for_s: int = 0
    clear_s: int = 0
    hysteresis: float = 0.0
    severity: str = "warning"
    manual_resolve: bool = False
    enabled: bool = True

    @property
    def limit(self) -> float:
        return KINDS[self.kind].default_threshold if self.threshold is None else self.threshold


_COLUMNS = [f.name for f in fields(Rule)]


class RuleError(ValueError):
    """A rule that cannot be kept; the message says why in words."""


def check(rule: Rule) -> None:
    """Refuse a rule that could never mean anything, before it reaches the database."""
    kind = KINDS.get(rule.kind)
    if kind is None:
        raise RuleError(f"unknown kind {rule.kind!r}; one of: {', '.join(KINDS)}")
    if rule.subject_type not in kind.subjects:
        raise RuleError(f"a {rule.kind} rule is for a {' or '.join(kind.subjects)}, not a {rule.subject_type}")
    if rule.severity not in SEVERITIES:
        raise RuleError(f"severity must be one of {', '.join(SEVERITIES)}, not {rule.severity!r}")
    if kind.unit == "ratio" and not 0 < rule.limit <= 1:
        raise RuleError(f"{rule.kind} thresholds are fractions between 0 and 1 (0.6 = 60 %), not {rule.limit}")
    if rule.limit < 0:
        raise RuleError(f"a threshold cannot be negative ({rule.limit})")
    if not 60 <= rule.window_s <= 31 * 86400:
        raise RuleError("the window must be between 1 minute and 31 days")
    for name in ("for_s", "clear_s"):
        if not 0 <= getattr(rule, name) <= 86400:
            raise RuleError(f"{name.removesuffix('_s')} must be between 0 seconds and a day")


def load(conn: Connection | Engine, enabled_only: bool = True) -> list[Rule]:
    query = f"select {', '.join(_COLUMNS)} from alert_rule" + (" where enabled" if enabled_only else "")
    with conn.connect() if isinstance(conn, Engine) else nullcontext(conn) as c:
        return [Rule(**row._mapping) for row in c.execute(sa.text(query + " order by rule_id"))]


def add(engine: Engine, rule: Rule) -> int:
    """Store a new rule (its rule_id is ignored) and return its id; a rule of the same name is replaced."""
    check(rule)
    cols = [c for c in _COLUMNS if c != "rule_id"]
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "name")
    with engine.begin() as conn:
        return conn.execute(
            sa.text(
                f"insert into alert_rule ({', '.join(cols)}) values ({', '.join(':' + c for c in cols)})"
                f" on conflict (name) do update set {updates} returning rule_id"
            ),
            {c: getattr(rule, c) for c in cols},
        ).scalar_one()


def remove(engine: Engine, rule_id: int) -> bool:
    with engine.begin() as conn:
        return conn.execute(sa.text("delete from alert_rule where rule_id = :r"), {"r": rule_id}).rowcount > 0
