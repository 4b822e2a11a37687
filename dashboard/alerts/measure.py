"""The numbers rules compare: one table per kind (and window) for every subject, from the pages' own data functions."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd

from dashboard import data
from dashboard.alerts.rules import KINDS, Rule

ATTRS = ("plant_id", "line_id", "machine_id", "sensor_id", "material_id")
RATIOS = ("oee", "availability", "performance", "quality")


@dataclass
class Table:
    """Every subject of one kind with its value (and its own limit, for stock), indexed by what a rule can name."""

    subjects: list[str]
    plants: list[str]
    values: list[float]
    limits: list[float] | None = None
    index: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, frame: pd.DataFrame, subject: pd.Series, value: pd.Series, limit: pd.Series | None = None) -> Table:
        t = cls(subject.tolist(), frame["plant_id"].astype(str).tolist(),
                [float(v) for v in value.astype(float).fillna(math.nan)],
                None if limit is None else limit.astype(float).tolist())
        for col in ATTRS:
            if col in frame:
                for i, v in enumerate(frame[col].astype(str)):
                    t.index.setdefault((col, v), []).append(i)
        return t

    def rows(self, rule: Rule) -> list[tuple[str, str, float, float]]:
        """(subject, plant, value, limit) for each subject ``rule`` names."""
        picked = range(len(self.subjects)) if rule.subject_id is None else \
            self.index.get((f"{rule.subject_type}_id", rule.subject_id), [])
        out = []
        for i in picked:
            if rule.plant_id is not None and self.plants[i] != rule.plant_id:
                continue
            limit = rule.limit if self.limits is None else self.limits[i] * rule.limit
            out.append((self.subjects[i], self.plants[i], self.values[i], limit))
        return out


def table_key(rule: Rule) -> tuple:
    if rule.kind in RATIOS:
        return (rule.kind, rule.subject_type, rule.window_s)
    return (rule.kind,)


def tables(rules: list[Rule], now: datetime) -> dict[tuple, Table]:
    """One table per distinct kind (and, for OEE kinds, grouping and window): 500 rules cost a handful of queries."""
    out: dict[tuple, Table] = {}
    longest: dict[str, float] = {}
    for r in rules:
        longest[r.kind] = max(longest.get(r.kind, 0.0), r.limit)
    for key in dict.fromkeys(table_key(r) for r in rules):
        kind = key[0]
        if kind in RATIOS:
            out[key] = _ratio(kind, key[1], key[2], now)
        elif kind == "machine_down":
            out[key] = _down(now, _lookback(longest[kind], 3600))
        elif kind == "sensor_limit":
            out[key] = _sensors(now, _lookback(longest[kind], 60))
        elif kind == "no_data":
            out[key] = _no_data(now)
        else:
            out[key] = _stock(kind, now)
    return out


def _lookback(longest_s: float, step: int) -> timedelta:
    # Rounded up to whole steps, so the cache key (and the query) stays the same while rules change a little.
    return timedelta(seconds=(int(min(longest_s, 86400) // step) + 2) * step)


def _machines() -> pd.DataFrame:
    return data.hierarchy()[["plant_id", "line_id", "machine_id"]]


def _ratio(kind: str, group: str, window_s: int, now: datetime) -> Table:
    totals = data.oee_totals(now - timedelta(seconds=window_s), now, group)
    attrs = _machines()
    if group != "machine":
        attrs = attrs.drop(columns=["machine_id"] + (["line_id"] if group == "plant" else [])).drop_duplicates()
    frame = totals.merge(attrs, left_on="key", right_on=f"{group}_id")
    return Table.build(frame, group + ":" + frame["key"].astype(str), frame[kind])


def _down(now: datetime, lookback: timedelta) -> Table:
    frame = data.machine_idle(now, now - lookback).merge(_machines(), on="machine_id")
    return Table.build(frame, "machine:" + frame["machine_id"], frame["idle_s"])


def _no_data(now: datetime) -> Table:
    frame = _machines().merge(data.last_data(now), on="machine_id", how="left")
    last = pd.to_datetime(frame["last_ts"], utc=True)
    age = (pd.Timestamp(now) - last).dt.total_seconds().fillna(math.inf)  # never sent anything: as old as can be
    return Table.build(frame, "machine:" + frame["machine_id"], age)


def _sensors(now: datetime, lookback: timedelta) -> Table:
    s = data.sensors()[["sensor_id", "machine_id", "plant_id"]].merge(_machines()[["machine_id", "line_id"]])
    frame = data.sensor_beyond(now, now - lookback).merge(s, on="sensor_id")
    return Table.build(frame, "sensor:" + frame["sensor_id"].astype(str), frame["beyond_s"])


def _stock(kind: str, now: datetime) -> Table:
    frame = data.inventory_status(now)
    subject = "stock:" + frame["plant_id"] + "/" + frame["material_id"]
    if kind == "stock_cover":  # a material nobody uses lasts for ever
        return Table.build(frame, subject, frame["days_of_cover"].fillna(math.inf), frame["lead_time_days"])
    limit = frame["reorder_point" if kind == "stock_reorder" else "safety_stock"]
    return Table.build(frame, subject, frame["on_hand"], limit)


def describe(kind: str, value: float | None) -> str:
    """The value in words, for messages and the page."""
    if value is None or value != value:
        return "no value"
    if math.isinf(value):
        return "never" if KINDS[kind].unit == "seconds" else "unlimited"
    unit = KINDS[kind].unit
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "seconds":
        return f"{value / 60:.0f} min" if value >= 120 else f"{value:.0f} s"
    if kind == "stock_cover":
        return f"{value:.1f} days of cover"
    return f"{value:,.0f} on hand"
