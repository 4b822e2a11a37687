"""The plant model file: its schema, and every mistake named with its place in the file."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CATEGORIES = ("breakdown", "setup", "minor_stop", "reduced_speed", "defect", "startup_reject")
_ID = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$"


class ModelError(ValueError):
    """A plant model file that cannot be used; ``problems`` names each mistake with its place."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _time_of_day(v: object) -> str:
    if isinstance(v, time):
        return v.strftime("%H:%M")
    if not isinstance(v, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v.strip()):
        raise ValueError("is not a time of day (HH:MM, 00:00 to 23:59, in quotes)")
    return v.strip()


class Break(_Strict):
    starts: str
    minutes: int = Field(gt=0, le=720)

    _starts = field_validator("starts", mode="before")(_time_of_day)


class Shift(_Strict):
    name: str = Field(min_length=1, max_length=32)
    starts: str
    hours: float = Field(gt=0, le=24)
    days: list[Literal[DAYS]] = list(DAYS)  # type: ignore[valid-type]
    breaks: list[Break] = []

    _starts = field_validator("starts", mode="before")(_time_of_day)


class Sensor(_Strict):
    kind: str = Field(min_length=1, max_length=64)
    unit: str = Field(min_length=1, max_length=16)
    id: int | None = Field(default=None, gt=0, lt=2**31)
    lo: float | None = None
    hi: float | None = None

    @model_validator(mode="after")
    def _limits(self) -> Sensor:
        if self.lo is not None and self.hi is not None and self.lo >= self.hi:
            raise ValueError(f"lo ({self.lo}) must be below hi ({self.hi})")
        return self


class Machine(_Strict):
    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    ideal_cycle_s: float = Field(gt=0, le=86400)
    sensors: list[Sensor] = []


class Line(_Strict):
    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    machines: list[Machine] = []


class StockPolicy(_Strict):
    material: str
    reorder_point: float = Field(ge=0)
    safety_stock: float = Field(ge=0)
    lead_time_days: float = Field(ge=0)


class Plant(_Strict):
    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    timezone: str
    sap_plant: str | None = None  # the plant's code in SAP (MB51 "Plant" column)
    shifts: list[Shift] = []
    lines: list[Line] = []
    stock: list[StockPolicy] = []

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not an IANA time zone (such as Europe/Berlin)") from None
        return v


class Reason(_Strict):
    code: str = Field(pattern=_ID)
    label: str = Field(min_length=1)
    category: Literal[CATEGORIES]  # type: ignore[valid-type]


class Material(_Strict):
    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    unit: str = Field(min_length=1, max_length=16)
    unit_cost: float = Field(ge=0)
    sap_material: str | None = None  # the material number in SAP (MB51 "Material" column)


class PlantModel(_Strict):
    plants: list[Plant] = Field(min_length=1)
    downtime_reasons: list[Reason] = []
    materials: list[Material] = []


def _place(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


def _describe(err: dict) -> str:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("literal[", "function-"))))
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        return f"{_place(loc)}: is missing"
    if err["type"] == "extra_forbidden":
        return f"{_place(loc)}: is not a field this file knows"
    return f"{_place(loc)}: {err['input']!r} {msg}" if err["type"] == "value_error" else f"{_place(loc)}: {msg}"


def _cross_checks(m: PlantModel) -> list[str]:
    """What the schema cannot see: ids unique across the file, references that resolve."""
    problems: list[str] = []
    seen: dict[tuple[str, str], str] = {}

    def unique(kind: str, key: str, place: str) -> None:
        if (kind, key) in seen:
            problems.append(f"{place}: {key!r} is already used at {seen[(kind, key)]}")
        else:
            seen[(kind, key)] = place

    materials = {mat.id for mat in m.materials}
    for i, mat in enumerate(m.materials):
        unique("material", mat.id, f"materials[{i}].id")
        if mat.sap_material:
            unique("sap_material", mat.sap_material, f"materials[{i}].sap_material")
    for i, r in enumerate(m.downtime_reasons):
        unique("reason", r.code, f"downtime_reasons[{i}].code")
    for i, p in enumerate(m.plants):
        unique("plant", p.id, f"plants[{i}].id")
        if p.sap_plant:
            unique("sap_plant", p.sap_plant, f"plants[{i}].sap_plant")
        for j, s in enumerate(p.shifts):
            unique(f"shift {p.id}", s.name, f"plants[{i}].shifts[{j}].name")
            for k, b in enumerate(s.breaks):
                if not _within(s, b):
                    problems.append(f"plants[{i}].shifts[{j}].breaks[{k}]: {b.starts!r} is not within the shift")
        for j, line in enumerate(p.lines):
            unique("line", line.id, f"plants[{i}].lines[{j}].id")
            for k, mc in enumerate(line.machines):
                unique("machine", mc.id, f"plants[{i}].lines[{j}].machines[{k}].id")
                for s_, sensor in enumerate(mc.sensors):
                    place = f"plants[{i}].lines[{j}].machines[{k}].sensors[{s_}]"
                    unique(f"sensor {mc.id}", sensor.kind, place + ".kind")
                    if sensor.id is not None:
                        unique("sensor", str(sensor.id), place + ".id")
        for j, sp in enumerate(p.stock):
            unique(f"stock {p.id}", sp.material, f"plants[{i}].stock[{j}].material")
            if sp.material not in materials:
                problems.append(f"plants[{i}].stock[{j}].material: {sp.material!r} is not in materials")
    return problems


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _within(shift: Shift, b: Break) -> bool:
    since = (_minutes(b.starts) - _minutes(shift.starts)) % 1440
    return since + b.minutes <= shift.hours * 60


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads 06:00 as the number 360; here it stays the text it looks like."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:int"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789"))


def parse(data: object) -> PlantModel:
    """A validated model from parsed YAML; ModelError lists every mistake."""
    try:
        model = PlantModel.model_validate(data)
    except ValidationError as exc:
        raise ModelError([_describe(e) for e in exc.errors()]) from None
    problems = _cross_checks(model)
    if problems:
        raise ModelError(problems)
    return model


def load(path: Path | str) -> PlantModel:
    """Read and validate a plant model file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError([f"{path}: cannot be read ({exc.strerror})"]) from None
    except UnicodeDecodeError:
        raise ModelError([f"{path}: is not UTF-8 text"]) from None
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise ModelError([f"{path.name} {where}: not valid YAML ({exc.problem})"]) from None
    if not isinstance(data, dict):
        raise ModelError([f"{path.name}: expected a mapping with 'plants:' at the top"])
    return parse(data)
