"""Apply a plant model to the database: a diff (add, change, leave, remove), then one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dashboard import ingest
from dashboard.sources.model import DAYS, PlantModel


@dataclass(frozen=True)
class Dim:
    table: str
    key: tuple[str, ...]
    values: tuple[str, ...]
    casts: dict[str, str] = field(default_factory=dict)
    # How to tell whether a row to be removed has history, and how to remove that history when told to.
    history: tuple[str, ...] = ()


# Parents first; removal runs in the reverse order. Names never come from input.
DIMS = (
    Dim("plant", ("plant_id",), ("name", "tz", "sap_code")),
    Dim("material", ("material_id",), ("name", "unit", "unit_cost", "sap_code"), {"unit_cost": "numeric"}),
    Dim(
        "downtime_reason",
        ("reason_code",),
        ("label", "category"),
        history=("downtime where reason_code = :reason_code",),
    ),
    Dim("shift", ("plant_id", "name"), ("starts", "hours", "days"), {"starts": "time", "days": "smallint[]"}),
    Dim("shift_break", ("plant_id", "shift_name", "starts"), ("minutes",), {"starts": "time"}),
    Dim("line", ("line_id",), ("plant_id", "name")),
    Dim(
        "machine",
        ("machine_id",),
        ("line_id", "name", "ideal_cycle_s"),
        history=("production where machine_id = :machine_id", "downtime where machine_id = :machine_id"),
    ),
    Dim(
        "sensor",
        ("sensor_id",),
        ("machine_id", "kind", "unit", "lo_limit", "hi_limit"),
        history=("telemetry where sensor_id = :sensor_id",),
    ),
    Dim(
        "stock_policy",
        ("plant_id", "material_id"),
        ("reorder_point", "safety_stock", "lead_time_days"),
        history=(
            "inventory_level where plant_id = :plant_id and material_id = :material_id",
            "inventory_movement where plant_id = :plant_id and material_id = :material_id",
        ),
    ),
)
KEEP = {("downtime_reason", ("unknown",))}  # made by the schema; every downtime without a reason points at it


class HistoryError(RuntimeError):
    """Applying would remove rows that have history, and that was not asked for explicitly."""


@dataclass
class Plan:
    add: list[tuple[str, tuple, dict]] = field(default_factory=list)
    change: list[tuple[str, tuple, dict, dict]] = field(default_factory=list)
    leave: int = 0
    remove: list[tuple[str, tuple]] = field(default_factory=list)
    with_history: list[tuple[str, tuple]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.add or self.change or self.remove)

    def lines(self) -> list[str]:
        out = [f"add    {t} {'/'.join(map(str, k))}" for t, k, _ in self.add]
        for t, k, old, new in self.change:
            what = ", ".join(f"{c} {old[c]!r} -> {new[c]!r}" for c in new if old[c] != new[c])
            out.append(f"change {t} {'/'.join(map(str, k))}: {what}")
        for t, k in self.remove:
            note = " (has history)" if (t, k) in self.with_history else ""
            out.append(f"remove {t} {'/'.join(map(str, k))}{note}")
        out.append(
            f"{len(self.add)} to add, {len(self.change)} to change, {self.leave} to leave, {len(self.remove)} to remove"
        )
        return out


def _rows(model: PlantModel, sensor_ids: dict[tuple[str, str], int]) -> dict[str, dict[tuple, dict]]:
    """What the model says each table holds: key -> values, normalised like _current() reads them."""
    out: dict[str, dict[tuple, dict]] = {d.table: {} for d in DIMS}
    for p in model.plants:
        out["plant"][(p.id,)] = {"name": p.name, "tz": p.timezone, "sap_code": p.sap_plant}
        for s in p.shifts:
            days = [DAYS.index(d) for d in sorted(set(s.days), key=DAYS.index)]
            out["shift"][(p.id, s.name)] = {"starts": s.starts, "hours": float(s.hours), "days": days}
            for b in s.breaks:
                out["shift_break"][(p.id, s.name, b.starts)] = {"minutes": b.minutes}
        for line in p.lines:
            out["line"][(line.id,)] = {"plant_id": p.id, "name": line.name}
            for m in line.machines:
                out["machine"][(m.id,)] = {"line_id": line.id, "name": m.name, "ideal_cycle_s": m.ideal_cycle_s}
                for s in m.sensors:
                    sid = s.id if s.id is not None else sensor_ids[(m.id, s.kind)]
                    out["sensor"][(sid,)] = {
                        "machine_id": m.id,
                        "kind": s.kind,
                        "unit": s.unit,
                        "lo_limit": s.lo,
                        "hi_limit": s.hi,
                    }
        for sp in p.stock:
            out["stock_policy"][(p.id, sp.material)] = {
                "reorder_point": sp.reorder_point,
                "safety_stock": sp.safety_stock,
                "lead_time_days": sp.lead_time_days,
            }
    for r in model.downtime_reasons:
        out["downtime_reason"][(r.code,)] = {"label": r.label, "category": r.category}
    for mat in model.materials:
        out["material"][(mat.id,)] = {
            "name": mat.name,
            "unit": mat.unit,
            "unit_cost": mat.unit_cost,
            "sap_code": mat.sap_material,
        }
    return out


def _norm(v: object) -> object:
    if hasattr(v, "strftime"):
        return v.strftime("%H:%M")
    if isinstance(v, (list, tuple)):
        return [int(x) for x in v]
    if hasattr(v, "as_tuple"):  # Decimal
        return float(v)
    return v


def _current(conn: Connection) -> dict[str, dict[tuple, dict]]:
    out = {}
    for d in DIMS:
        cols = d.key + d.values
        rows = conn.execute(sa.text(f"select {', '.join(cols)} from {d.table}")).all()
        out[d.table] = {
            tuple(_norm(v) for v in r[: len(d.key)]): {c: _norm(v) for c, v in zip(d.values, r[len(d.key) :])}
            for r in rows
        }
    return out


def _sensor_ids(model: PlantModel, current: dict[tuple, dict]) -> dict[tuple[str, str], int]:
    """Sensors without an id keep the one they have; new ones get the next free numbers, in file order."""
    by_kind = {(v["machine_id"], v["kind"]): k[0] for k, v in current.items()}
    taken = {k[0] for k in current} | {
        s.id for p in model.plants for ln in p.lines for m in ln.machines for s in m.sensors if s.id is not None
    }
    explicit = {s.id for p in model.plants for ln in p.lines for m in ln.machines for s in m.sensors if s.id}
    out, nxt = {}, max(taken, default=0) + 1
    for p in model.plants:
        for ln in p.lines:
            for m in ln.machines:
                for s in m.sensors:
                    had = by_kind.get((m.id, s.kind))
                    if s.id is not None:
                        continue
                    if had is not None and had not in explicit:
                        out[(m.id, s.kind)] = had
                        continue
                    while nxt in taken:
                        nxt += 1
                    out[(m.id, s.kind)] = nxt
                    taken.add(nxt)
    return out


def plan(conn: Connection, model: PlantModel) -> Plan:
    """What applying ``model`` would add, change, leave and remove."""
    current = _current(conn)
    wanted = _rows(model, _sensor_ids(model, current["sensor"]))
    result = Plan()
    for d in DIMS:
        have, want = current[d.table], wanted[d.table]
        for key, values in want.items():
            if key not in have:
                result.add.append((d.table, key, values))
            elif have[key] != values:
                result.change.append((d.table, key, have[key], values))
            else:
                result.leave += 1
        for key in have.keys() - want.keys():
            if (d.table, key) in KEEP:
                continue
            result.remove.append((d.table, key))
            params = dict(zip(d.key, key))
            if any(conn.execute(sa.text(f"select exists(select 1 from {h})"), params).scalar() for h in d.history):
                result.with_history.append((d.table, key))
    return result


def _upsert(conn: Connection, d: Dim, rows: list[tuple[tuple, dict]]) -> None:
    cols = d.key + d.values
    params = ", ".join(f"cast(:{c} as {d.casts[c]})" if c in d.casts else f":{c}" for c in cols)
    sets = ", ".join(f"{c} = excluded.{c}" for c in d.values)
    stmt = sa.text(
        f"insert into {d.table} ({', '.join(cols)}) values ({params}) on conflict ({', '.join(d.key)}) do update set {sets}"
    )
    conn.execute(stmt, [dict(zip(d.key, k)) | v for k, v in rows])


def apply(engine: Engine, model: PlantModel, dry_run: bool = False, delete_history: bool = False) -> Plan:
    """Plan, then (unless ``dry_run``) apply in one transaction; HistoryError if removal would lose history."""
    with engine.begin() as conn:
        result = plan(conn, model)
        if dry_run or result.empty:
            return result
        if result.with_history and not delete_history:
            names = ", ".join(f"{t} {'/'.join(map(str, k))}" for t, k in result.with_history[:10])
            raise HistoryError(
                f"the file leaves out {len(result.with_history)} row(s) that have history ({names}); nothing was"
                " changed. Put them back in the file, or pass --delete-history to delete them with their history."
            )
        by_table = {d.table: d for d in DIMS}
        for d in DIMS:
            rows = [(k, v) for t, k, v in result.add if t == d.table]
            rows += [(k, new) for t, k, _, new in result.change if t == d.table]
            if rows:
                _upsert(conn, d, rows)
        for d in reversed(DIMS):
            for t, key in result.remove:
                if t != d.table:
                    continue
                params = dict(zip(d.key, key))
                for h in by_table[t].history:
                    conn.execute(sa.text(f"delete from {h}"), params)
                where = " and ".join(f"{c} = :{c}" for c in d.key)
                conn.execute(sa.text(f"delete from {d.table} where {where}"), params)
        ingest.bump(conn, ("model",))
    return result
