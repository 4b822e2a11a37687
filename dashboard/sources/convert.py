"""A chunk of text columns -> typed rows for one table, with every bad row named (row, column, reason)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dashboard.sources.kinds import KINDS, MOVEMENT_KINDS, Kind

UTC_US = pa.timestamp("us", tz="UTC")
_AWARE = re.compile(r"(?:Z|[+-]\d\d(?::?\d\d)?)$")
TIME_HINT = "is not a time (ISO 8601, e.g. 2026-01-14 06:00 or 2026-01-14T06:00:00+01:00)"


@dataclass(frozen=True)
class Bad:
    row: int
    column: str
    reason: str


@dataclass
class Problems:
    """Bad cells of one chunk: a mask per check, turned into words only for the rows that are listed."""

    n: int
    first_row: int
    mask: np.ndarray = field(init=False)  # rows refused
    same: np.ndarray = field(init=False)  # rows that repeat an earlier row exactly: dropped, not refused
    found: list[tuple[np.ndarray, str, object]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.mask = np.zeros(self.n, dtype=bool)
        self.same = np.zeros(self.n, dtype=bool)

    def add(self, where: np.ndarray, column: str, reason: object) -> None:
        """``reason``: text, or a function of the row index that returns text."""
        where = np.asarray(where, dtype=bool) & ~self.mask  # one reason per row: the first found
        if where.any():
            self.found.append((where, column, reason))
            self.mask |= where

    def listed(self, limit: int) -> list[Bad]:
        out: list[Bad] = []
        for where, column, reason in self.found:
            for i in np.flatnonzero(where)[: max(0, limit - len(out))]:
                out.append(Bad(self.first_row + int(i), column, reason(i) if callable(reason) else reason))
        return sorted(out, key=lambda b: b.row)


@dataclass
class Lookups:
    """The plant model as the importer needs it, read once per import."""

    machine_tz: dict[str, str]  # machine_id -> its plant's time zone
    machine_cycle: dict[str, float]  # machine_id -> ideal cycle s
    sensors: dict[int, str]  # sensor_id -> time zone
    sensor_ids: dict[tuple[str, str], int]  # (machine_id, kind) -> sensor_id
    plants: dict[str, str]  # plant_id -> time zone
    stock: set[tuple[str, str]]  # (plant_id, material_id) with a stock policy
    reasons: set[str]


def _text(v: object) -> str:
    return repr(v if not isinstance(v, str) or len(v) < 60 else v[:57] + "...")


def text(table: pa.Table, name: str, p: Problems, required: bool = True) -> np.ndarray | None:
    if name not in table.column_names:
        return None
    arr = pc.utf8_trim_whitespace(pc.cast(table[name], pa.string()))
    values = arr.to_numpy(zero_copy_only=False)
    if required:
        p.add(pc.is_null(arr).to_numpy(zero_copy_only=False), name, "is empty")
    return values


def number(table: pa.Table, name: str, p: Problems, whole: bool = False, default: float | None = None) -> np.ndarray:
    if name not in table.column_names:
        return np.full(p.n, default, dtype=float)
    col = table[name]
    try:
        values = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
        values = np.asarray(values, dtype=float)
        junk = np.zeros(p.n, dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raw = pd.Series(col.to_numpy(zero_copy_only=False), dtype=object)
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        junk = np.isnan(values) & raw.notna().to_numpy()
        p.add(junk, name, lambda i: f"{_text(raw.iloc[i])} is not a number")
    empty = np.isnan(values) & ~junk
    if default is not None:
        values = np.where(empty, default, values)
    else:
        p.add(empty, name, "is empty")
    p.add(~np.isfinite(values) & ~np.isnan(values), name, "is not a finite number")
    if whole:
        p.add(
            np.isfinite(values) & (values != np.round(values)), name, lambda i: f"{values[i]!r} is not a whole number"
        )
    return values


def times(table: pa.Table, name: str, p: Problems, zone_of_row: np.ndarray) -> np.ndarray:
    """Microseconds since the epoch (UTC); times without an offset are read in each row's own time zone."""
    col = table[name]
    if pa.types.is_timestamp(col.type):
        if col.type.tz:
            return pc.cast(col, UTC_US).to_numpy(zero_copy_only=False).astype("datetime64[us]").astype(np.int64)
        naive = pc.cast(col, pa.timestamp("us"))
        return _localise(naive, zone_of_row, p, name)
    col = pc.utf8_trim_whitespace(pc.cast(col, pa.string()))
    p.add(pc.is_null(col).to_numpy(zero_copy_only=False), name, "is empty")
    try:
        return _ints(pc.cast(col, UTC_US))
    except pa.ArrowInvalid:
        pass
    try:
        return _localise(pc.cast(col, pa.timestamp("us")), zone_of_row, p, name)
    except pa.ArrowInvalid:
        return _times_slowly(col, name, p, zone_of_row)


def _ints(arr: pa.ChunkedArray | pa.Array) -> np.ndarray:
    out = pc.cast(pc.cast(arr, pa.timestamp("us")), pa.int64()).to_numpy(zero_copy_only=False)
    return np.array(pd.Series(out).fillna(0), dtype=np.int64)  # a writable copy


def _localise(naive: pa.ChunkedArray, zone_of_row: np.ndarray, p: Problems, name: str) -> np.ndarray:
    out = _ints(naive)
    known = pd.notna(zone_of_row)
    for zone in pd.unique(zone_of_row[known]):
        rows = np.flatnonzero(zone_of_row == zone)
        part = naive.take(pa.array(rows))
        try:
            out[rows] = _ints(pc.assume_timezone(part, zone))
        except pa.ArrowInvalid:
            early = _ints(pc.assume_timezone(part, zone, ambiguous="earliest", nonexistent="earliest"))
            late = _ints(pc.assume_timezone(part, zone, ambiguous="latest", nonexistent="latest"))
            out[rows] = early
            where = np.zeros(p.n, dtype=bool)
            where[rows[early != late]] = True
            p.add(where, name, f"is missing or twice on the clock in {zone} (a DST change): give its UTC offset")
    return out


def _times_slowly(col: pa.ChunkedArray, name: str, p: Problems, zone_of_row: np.ndarray) -> np.ndarray:
    """Mixed or broken times: each value on its own, so every bad one is named."""
    raw = pd.Series(col.to_numpy(zero_copy_only=False), dtype=object)
    aware = raw.str.contains(_AWARE, na=False).to_numpy()
    out = np.zeros(p.n, dtype=np.int64)
    parsed = pd.to_datetime(raw.where(aware), errors="coerce", utc=True, format="ISO8601")
    naive = pd.to_datetime(raw.where(~aware), errors="coerce", format="ISO8601")
    ok_aware = parsed.notna().to_numpy()
    out[ok_aware] = parsed[ok_aware].to_numpy(dtype="datetime64[us]").astype(np.int64)
    ok_naive = naive.notna().to_numpy()
    p.add(raw.notna().to_numpy() & ~ok_aware & ~ok_naive, name, lambda i: f"{_text(raw.iloc[i])} {TIME_HINT}")
    if ok_naive.any():
        arr = pa.array(naive.to_numpy(dtype="datetime64[us]"), pa.timestamp("us"))
        local = _localise(pa.chunked_array([arr]), np.where(ok_naive, zone_of_row, None), p, name)
        out[ok_naive] = local[ok_naive]
    return out


def _known(values: np.ndarray | None, known: set, p: Problems, name: str, what: str) -> None:
    if values is not None:
        missing = ~pd.Series(values, dtype=object).isin(known).to_numpy() & pd.notna(values)
        p.add(missing, name, lambda i: f"{_text(values[i])} is not {what} in the plant model")


def convert(kind: Kind, table: pa.Table, first_row: int, look: Lookups) -> tuple[pd.DataFrame, Problems]:
    """Rows for ``kind.table`` from one chunk; rows named in Problems are left out."""
    p = Problems(table.num_rows, first_row)
    frame = _BUILD[kind.name](table, p, look)
    return frame[~p.mask & ~p.same], p


def _utc(us: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(us.astype("datetime64[us]")).tz_localize("UTC")


def _lookup(values: np.ndarray, mapping: dict) -> np.ndarray:
    return pd.Series(values, dtype=object).map(mapping).to_numpy(dtype=object)


def _production(t: pa.Table, p: Problems, look: Lookups) -> pd.DataFrame:
    machine = text(t, "machine_id", p)
    _known(machine, set(look.machine_tz), p, "machine_id", "a machine")
    ts = times(t, "ts", p, _lookup(machine, look.machine_tz))
    planned, run = number(t, "planned_s", p), number(t, "run_s", p)
    total, good = number(t, "total_count", p, whole=True), number(t, "good_count", p, whole=True)
    startup = number(t, "startup_rejects", p, whole=True, default=0.0)
    cycle = number(t, "ideal_cycle_s", p, default=np.nan)
    cycle = np.where(np.isnan(cycle), np.asarray(_lookup(machine, look.machine_cycle), dtype=float), cycle)
    p.add(ts % 60_000_000 != 0, "ts", "is not the start of a minute (production rows are per minute)")
    p.add((planned < 0) | (planned > 60), "planned_s", lambda i: f"{planned[i]:g} is not between 0 and 60 s")
    p.add((run < 0) | (run > planned), "run_s", lambda i: f"{run[i]:g} is not between 0 and planned_s ({planned[i]:g})")
    p.add(total < 0, "total_count", "is negative")
    p.add((good < 0) | (good > total), "good_count", lambda i: f"{good[i]:g} is not between 0 and total_count")
    p.add((startup < 0) | (startup > total - good), "startup_rejects", "is more than total_count - good_count")
    p.add(~(cycle > 0), "ideal_cycle_s", "is not above 0")
    frame = pd.DataFrame(
        {
            "machine_id": machine,
            "ts": ts,
            "planned_s": planned,
            "run_s": run,
            "total_count": total,
            "good_count": good,
            "startup_rejects": startup,
            "ideal_cycle_s": cycle,
        }
    )
    return _dedupe(frame, ("machine_id", "ts"), p, first_row_col="ts")


def _downtime(t: pa.Table, p: Problems, look: Lookups) -> pd.DataFrame:
    machine = text(t, "machine_id", p)
    _known(machine, set(look.machine_tz), p, "machine_id", "a machine")
    zones = _lookup(machine, look.machine_tz)
    start, end = times(t, "start_ts", p, zones), times(t, "end_ts", p, zones)
    reason = text(t, "reason_code", p, required=False)
    reason = np.where(pd.isna(reason), "unknown", reason) if reason is not None else np.full(p.n, "unknown", object)
    _known(reason, look.reasons, p, "reason_code", "a downtime reason")
    p.add(end <= start, "end_ts", "is not after start_ts")
    frame = pd.DataFrame({"machine_id": machine, "start_ts": start, "end_ts": end, "reason_code": reason})
    return _dedupe(frame, ("machine_id", "start_ts"), p, first_row_col="start_ts")


def _telemetry(t: pa.Table, p: Problems, look: Lookups) -> pd.DataFrame:
    if "sensor_id" in t.column_names:
        sensor = number(t, "sensor_id", p, whole=True)
        sensor = np.where(np.isfinite(sensor), sensor, -1).astype(np.int64)
        column = "sensor_id"
    else:
        machine, kind = text(t, "machine_id", p), text(t, "sensor", p)
        keys = pd.Series(list(zip(machine, kind)), dtype=object)
        sensor = keys.map(look.sensor_ids).fillna(-1).to_numpy(dtype=np.int64)
        column = "sensor"
    zones = pd.Series(sensor).map(look.sensors).to_numpy(dtype=object)
    p.add(pd.isna(zones), column, "is not a sensor in the plant model")
    ts = times(t, "ts", p, zones)
    value = number(t, "value", p)
    frame = pd.DataFrame({"sensor_id": sensor.astype(np.int32), "ts": ts, "value": value})
    return _dedupe(frame, ("sensor_id", "ts"), p, first_row_col="ts")


def _stock_rows(t: pa.Table, p: Problems, look: Lookups) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    plant, material = text(t, "plant_id", p), text(t, "material_id", p)
    pairs = pd.Series(list(zip(plant, material)), dtype=object)
    p.add(
        ~pairs.isin(look.stock).to_numpy(),
        "material_id",
        lambda i: f"{_text(material[i])} has no stock policy at plant {_text(plant[i])} in the plant model",
    )
    ts = times(t, "ts", p, _lookup(plant, look.plants))
    return plant, material, ts


def _level(t: pa.Table, p: Problems, look: Lookups) -> pd.DataFrame:
    plant, material, ts = _stock_rows(t, p, look)
    frame = pd.DataFrame({"plant_id": plant, "material_id": material, "ts": ts, "on_hand": number(t, "on_hand", p)})
    return _dedupe(frame, ("plant_id", "material_id", "ts"), p, first_row_col="ts")


def _movement(t: pa.Table, p: Problems, look: Lookups) -> pd.DataFrame:
    plant, material, ts = _stock_rows(t, p, look)
    kind = text(t, "kind", p)
    p.add(
        ~pd.Series(kind, dtype=object).isin(MOVEMENT_KINDS).to_numpy() & pd.notna(kind),
        "kind",
        lambda i: f"{_text(kind[i])} is not one of {', '.join(MOVEMENT_KINDS)}",
    )
    frame = pd.DataFrame(
        {"plant_id": plant, "material_id": material, "ts": ts, "kind": kind, "qty": number(t, "qty", p)}
    )
    return _dedupe(frame, ("plant_id", "material_id", "ts", "kind"), p, first_row_col="ts")


def _dedupe(frame: pd.DataFrame, key: tuple[str, ...], p: Problems, first_row_col: str) -> pd.DataFrame:
    """A key twice with the same values is one row; with other values the later row is named as bad."""
    ok = ~p.mask
    dup_key = np.zeros(p.n, dtype=bool)
    dup_key[ok] = frame[ok].duplicated(list(key)).to_numpy()
    if dup_key.any():
        same = np.zeros(p.n, dtype=bool)
        same[ok] = frame[ok].duplicated().to_numpy()
        p.add(dup_key & ~same, first_row_col, "repeats an earlier row's key with other values")
        p.same = same & ~p.mask
    out = frame.copy()
    for col in out.columns:
        if col in ("ts", "start_ts", "end_ts"):
            out[col] = _utc(out[col].to_numpy())
    return out


_BUILD = {
    "production": _production,
    "downtime": _downtime,
    "telemetry": _telemetry,
    "inventory-level": _level,
    "inventory-movement": _movement,
}
assert set(_BUILD) == set(KINDS)
