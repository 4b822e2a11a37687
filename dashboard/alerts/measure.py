"""The numbers rules compare: one table per kind (and window) for every subject, from the pages' own data functions."""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import pandas as pd

from dashboard import data
from dashboard.alerts.rules import KINDS, Rule

RATIOS = ("oee", "availability", "performance", "quality")
ALWAYS = pd.Timestamp.min.tz_localize("UTC")  # a plant with no shifts on record works since for ever
PARALLEL = 4  # data questions asked at once per evaluation; the reader pool holds 8 connections


@dataclass
class Table:
    """Every subject of one kind with its value (and its own limit, for stock), indexed by what a rule can name."""

    subjects: list[str]
    plants: list[str]
    values: list[float]
    limits: list[float] | None = None
    index: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, subjects: list[str], attrs: dict[str, list[str]], values: list[float],
              limits: list[float] | None = None) -> Table:
        t = cls(subjects, attrs["plant_id"], [math.nan if v is None else float(v) for v in values], limits)
        for col, ids in attrs.items():
            for i, v in enumerate(ids):
                t.index.setdefault((col, v), []).append(i)
        return t

    def rows(self, rule: Rule) -> list[tuple[str, str, float, float]]:
        """(subject, plant, value, limit) for each subject ``rule`` names."""
        if rule.subject_id is None:
            picked: range | list[int] = range(len(self.subjects))
        else:
            picked = self.index.get((f"{rule.subject_type}_id", rule.subject_id), [])
        out = []
        for i in picked:
            if rule.plant_id is not None and self.plants[i] != rule.plant_id:
                continue
            limit = rule.limit if self.limits is None else self.limits[i] * rule.limit
            out.append((self.subjects[i], self.plants[i], self.values[i], limit))
        return out


class _Where:
    """Which plant and line each machine, line and sensor belongs to: plain dicts, read once per evaluation."""

    def __init__(self) -> None:
        h = data.hierarchy()
        self.machines = h["machine_id"].tolist()
        self.machine = {m: (p, ln) for m, p, ln in zip(h["machine_id"], h["plant_id"], h["line_id"], strict=True)}
        self.line = dict(zip(h["line_id"], h["plant_id"], strict=True))
        self.plants = sorted(set(h["plant_id"]))
        s = data.sensors()
        self.sensor = {str(i): m for i, m in zip(s["sensor_id"], s["machine_id"], strict=True)}

    def of_machines(self, ids: list[str]) -> dict[str, list[str]]:
        return {"plant_id": [self.machine[m][0] for m in ids], "line_id": [self.machine[m][1] for m in ids],
                "machine_id": ids}


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
    where = _Where()
    keys = list(dict.fromkeys(table_key(r) for r in rules))
    jobs: list[Callable[[], dict[tuple, Table]]] = []
    # OEE and its factors over one grouping and window come from one answer: four tables, one query.
    for group, window_s in dict.fromkeys((k[1], k[2]) for k in keys if k[0] in RATIOS):
        jobs.append(partial(_ratios, where, group, window_s, now))
    for key in keys:
        kind = key[0]
        if kind == "machine_down":
            jobs.append(lambda k=key: {k: _down(where, now, _lookback(longest["machine_down"], 3600))})
        elif kind == "sensor_limit":
            jobs.append(lambda k=key: {k: _sensors(where, now, _lookback(longest["sensor_limit"], 60))})
        elif kind == "no_data":
            jobs.append(lambda k=key: {k: _no_data(where, now)})
        elif kind not in RATIOS:
            jobs.append(lambda k=key: {k: _stock(k[0], now)})
    # The questions are independent and mostly wait on the database: ask them side by side.
    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(jobs) or 1)) as pool:
        for part in pool.map(lambda job: job(), jobs):
            out |= part
    return out


def _lookback(longest_s: float, step: int) -> timedelta:
    # Rounded up to whole steps, so the cache key (and the query) stays the same while rules change a little.
    return timedelta(seconds=(int(min(longest_s, 86400) // step) + 2) * step)


def _ratios(where: _Where, group: str, window_s: int, now: datetime) -> dict[tuple, Table]:
    totals = data.oee_totals(now - timedelta(seconds=window_s), now, group)
    keys = [str(k) for k in totals["key"]]
    if group == "machine":
        keys = [k for k in keys if k in where.machine]
        attrs = where.of_machines(keys)
    elif group == "line":
        keys = [k for k in keys if k in where.line]
        attrs = {"plant_id": [where.line[k] for k in keys], "line_id": keys}
    else:
        keys = [k for k in keys if k in where.plants]
        attrs = {"plant_id": keys}
    rows = totals.set_index(totals["key"].astype(str)).loc[keys] if keys else totals.iloc[:0]
    subjects = [f"{group}:{k}" for k in keys]
    return {(kind, group, window_s): Table.build(subjects, attrs, rows[kind].tolist()) for kind in RATIOS}


def _down(where: _Where, now: datetime, lookback: timedelta) -> Table:
    frame = data.machine_idle(now, now - lookback)
    pairs = [(m, v) for m, v in zip(frame["machine_id"], frame["idle_s"], strict=True) if m in where.machine]
    ids = [m for m, _ in pairs]
    return Table.build([f"machine:{m}" for m in ids], where.of_machines(ids), [v for _, v in pairs])


def _no_data(where: _Where, now: datetime) -> Table:
    """Seconds without data while the plant works: silence before its shifts began, or between them, is no alarm."""
    frame = data.last_data(now)
    last = dict(zip(frame["machine_id"], pd.to_datetime(frame["last_ts"], utc=True), strict=True))
    at = pd.Timestamp(now)
    plants = data.plants()
    shifts = data.shifts()
    since = {p: working_since(tz, shifts[shifts["plant_id"] == p], at)
             for p, tz in zip(plants["plant_id"], plants["tz"], strict=True)}
    ages = []
    for m in where.machines:
        start = since.get(where.machine[m][0], ALWAYS)
        if start is None:
            ages.append(0.0)  # off shift: nothing is expected
            continue
        seen = last.get(m)
        seen = start if seen is None or pd.isna(seen) or seen < start else seen
        ages.append(math.inf if seen == ALWAYS else (at - seen).total_seconds())
    return Table.build([f"machine:{m}" for m in where.machines], where.of_machines(where.machines), ages)


def working_since(tz: str, shifts: pd.DataFrame, at: pd.Timestamp) -> pd.Timestamp | None:
    """When the plant's current stretch of back-to-back shifts began (UTC); None when ``at`` is off shift.
    A plant with no shifts on record works around the clock."""
    if shifts.empty:
        return ALWAYS
    local = at.tz_convert(tz)
    spans = []
    for day in (local.normalize() - pd.Timedelta(days=d) for d in (2, 1, 0)):
        for starts, hours in zip(shifts["starts"], shifts["hours"], strict=True):
            hh, mm = (int(x) for x in str(starts).split(":")[:2])
            begin = (day.tz_localize(None) + pd.Timedelta(hours=hh, minutes=mm)).tz_localize(
                tz, ambiguous=False, nonexistent="shift_forward")
            spans.append((begin, begin + pd.Timedelta(hours=float(hours))))
    spans.sort()
    merged: list[list[pd.Timestamp]] = []
    for b, e in spans:
        if merged and b <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([b, e])
    for b, e in merged:
        if b <= local < e:
            return b.tz_convert("UTC")
    return None


def _sensors(where: _Where, now: datetime, lookback: timedelta) -> Table:
    frame = data.sensor_beyond(now, now - lookback)
    pairs = [(str(s), v) for s, v in zip(frame["sensor_id"], frame["beyond_s"], strict=True)
             if str(s) in where.sensor]
    ids = [s for s, _ in pairs]
    attrs = where.of_machines([where.sensor[s] for s in ids]) | {"sensor_id": ids}
    return Table.build([f"sensor:{s}" for s in ids], attrs, [v for _, v in pairs])


def _stock(kind: str, now: datetime) -> Table:
    frame = data.inventory_status(now)
    subjects = ("stock:" + frame["plant_id"] + "/" + frame["material_id"]).tolist()
    attrs = {"plant_id": frame["plant_id"].tolist(), "material_id": frame["material_id"].tolist()}
    if kind == "stock_cover":  # a material nobody uses lasts for ever
        values, limits = frame["days_of_cover"].fillna(math.inf), frame["lead_time_days"]
    else:
        values, limits = frame["on_hand"], frame["reorder_point" if kind == "stock_reorder" else "safety_stock"]
    return Table.build(subjects, attrs, values.astype(float).tolist(), limits.astype(float).tolist())


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
