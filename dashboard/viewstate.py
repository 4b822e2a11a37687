"""The view a URL describes: parsed and checked against what exists, resolved to time windows per plant."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import pandas as pd

PRESETS = {
    "shift": "Shift so far",
    "today": "Today",
    "24h": "Last 24 h",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "qtd": "Quarter to date",
    "custom": "Dates…",
}
GROUPS = {"plant": "Plant", "line": "Line", "machine": "Machine"}
MAX_ITEMS = 200
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class View:
    preset: str = "7d"
    first: date | None = None  # custom range, plant-local dates, inclusive
    last: date | None = None
    plants: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    machines: tuple[str, ...] = ()
    group: str = "plant"
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def query(self) -> str:
        """The URL query string that restores this view."""
        q: dict[str, str] = {"range": self.preset}
        if self.preset == "custom" and self.first and self.last:
            q |= {"from": self.first.isoformat(), "to": self.last.isoformat()}
        for key, values in (("plant", self.plants), ("line", self.lines), ("machine", self.machines)):
            if values:
                q[key] = ",".join(values)
        if self.group != "plant":
            q["group"] = self.group
        q |= self.extra
        return "?" + urlencode(q, safe=",")


def _ids(raw: str | None, known: set[str], what: str, notices: list[str]) -> tuple[str, ...]:
    if not raw:
        return ()
    asked = [v.strip() for v in str(raw).split(",")[:MAX_ITEMS] if v.strip()]
    good = tuple(dict.fromkeys(v for v in asked if v in known))
    unknown = [v for v in asked if v not in known]
    if unknown:
        shown = ", ".join(repr(v[:40]) for v in unknown[:3]) + (" …" if len(unknown) > 3 else "")
        notices.append(f"Unknown {what} {shown} ignored.")
    return good


def _date(raw: str | None, name: str, notices: list[str]) -> date | None:
    if not raw:
        return None
    text = str(raw).strip()
    try:  # the whole value must be a date, or a date and a real time of day: '2026-11-23T99:99' is neither
        d = date.fromisoformat(text) if len(text) <= 10 else datetime.fromisoformat(text).date()
    except ValueError:
        notices.append(f"'{text[:40]}' is not a date (use YYYY-MM-DD); {name} ignored.")
        return None
    if not EARLIEST <= d <= date.today() + timedelta(days=366):
        notices.append(f"{name} {d.isoformat()} is out of range; ignored.")
        return None
    return d


def parse(query: dict[str, str], hierarchy: pd.DataFrame, default: View | None = None) -> tuple[View, list[str]]:
    """Turn URL parameters into a View; anything unusable falls back to the default with a notice in words."""
    default = default or View()
    notices: list[str] = []
    preset = str(query.get("range", default.preset))
    if preset not in PRESETS:
        notices.append(f"Unknown range '{preset[:40]}'; showing {PRESETS[default.preset].lower()}.")
        preset = default.preset
    first, last = _date(query.get("from"), "start date", notices), _date(query.get("to"), "end date", notices)
    if preset == "custom":
        if not (first and last):
            notices.append(f"A custom range needs both dates; showing {PRESETS[default.preset].lower()}.")
            preset, first, last = default.preset, None, None
        elif first > last:
            notices.append(
                f"The start date {first} is after the end date {last}; showing {PRESETS[default.preset].lower()}."
            )
            preset, first, last = default.preset, None, None
    else:
        first = last = None
    plants = _ids(query.get("plant"), set(hierarchy["plant_id"]), "plant", notices)
    in_plants = hierarchy[hierarchy["plant_id"].isin(plants)] if plants else hierarchy
    lines = _ids(query.get("line"), set(in_plants["line_id"]), "line", notices)
    in_lines = in_plants[in_plants["line_id"].isin(lines)] if lines else in_plants
    machines = _ids(query.get("machine"), set(in_lines["machine_id"]), "machine", notices)
    group = str(query.get("group", default.group))
    if group not in GROUPS:
        notices.append(f"Unknown grouping '{group[:40]}'; grouping by plant.")
        group = "plant"
    return View(preset, first, last, plants, lines, machines, group), notices


def window(view: View, tz: str, now: datetime, shift_starts: list[str] | None = None) -> tuple[datetime, datetime]:
    """[start, end) in UTC for this view as seen from a plant in ``tz``."""
    local_now = pd.Timestamp(now).tz_convert(tz)
    midnight = local_now.normalize()
    if view.preset == "custom" and view.first and view.last:
        start = pd.Timestamp(view.first).tz_localize(tz)
        end = min(pd.Timestamp(view.last + timedelta(days=1)).tz_localize(tz), local_now)
    elif view.preset == "today":
        start, end = midnight, local_now
    elif view.preset == "shift":
        starts = sorted(
            midnight + pd.Timedelta(f"{s}:00"[:8]) + pd.Timedelta(days=d)
            for s in (shift_starts or ["00:00"])
            for d in (-1, 0)
        )
        start, end = max(s for s in starts if s <= local_now), local_now
    elif view.preset == "qtd":
        start = pd.Timestamp(year=local_now.year, month=3 * ((local_now.month - 1) // 3) + 1, day=1, tz=tz)
        end = local_now
    else:
        span = {"24h": pd.Timedelta(hours=24), "7d": pd.Timedelta(days=7), "30d": pd.Timedelta(days=30)}[view.preset]
        start, end = local_now - span, local_now
    return start.tz_convert("UTC").to_pydatetime(), end.tz_convert("UTC").to_pydatetime()


def with_changes(view: View, **changes: object) -> View:
    return replace(view, **changes)


def from_fragment(fragment: str | None) -> dict[str, str]:
    """'#range=7d&plant=A,B' (or '?…') -> {'range': '7d', 'plant': 'A,B'}; the last of a repeated key wins."""
    from urllib.parse import parse_qsl

    text = (fragment or "").lstrip("#?")[:4000]  # a URL longer than this is not ours
    return dict(parse_qsl(text, keep_blank_values=False))


def to_store(view: View) -> dict:
    return {
        "preset": view.preset,
        "first": view.first.isoformat() if view.first else None,
        "last": view.last.isoformat() if view.last else None,
        "plants": list(view.plants),
        "lines": list(view.lines),
        "machines": list(view.machines),
        "group": view.group,
    }


def from_store(d: dict | None) -> View:
    if not d:
        return View()
    return View(
        preset=d["preset"],
        first=date.fromisoformat(d["first"]) if d.get("first") else None,
        last=date.fromisoformat(d["last"]) if d.get("last") else None,
        plants=tuple(d.get("plants") or ()),
        lines=tuple(d.get("lines") or ()),
        machines=tuple(d.get("machines") or ()),
        group=d.get("group", "plant"),
    )
