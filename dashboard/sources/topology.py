"""The simulator's topology written as a plant model, so the demo takes the same road as a real plant."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

from dashboard import simulator
from dashboard.config import ROOT
from dashboard.sources import apply
from dashboard.sources.model import DAYS, PlantModel, load, parse

log = logging.getLogger(__name__)

EXAMPLE = ROOT / "examples" / "plant.yaml"
# SAP codes for the MB51 sample in examples/: plant codes and material numbers as an ERP would have them.
SAP_PLANTS = {"DET": "1000", "STR": "2000", "PNQ": "3000", "MTY": "4000", "SZX": "5000", "BNE": "6000"}


def sap_material(index: int) -> str:
    return f"{100_000 + 10 * (index + 1)}"


def as_dict(topo: simulator.Topology) -> dict:
    """The plant model file's content for ``topo`` (plain data, ready for yaml.safe_dump)."""
    dims = simulator.dimensions(topo)
    plants = []
    for p in topo.plants:
        brk = p.shift_hours * 30  # the simulator's break: half an hour, halfway through the shift
        shifts = [
            {
                "name": "ABC"[k],
                "starts": f"{h:02d}:00",
                "hours": p.shift_hours,
                "days": [DAYS[d] for d in p.workdays],
                "breaks": [{"starts": f"{(h * 60 + brk) // 60 % 24:02d}:{brk % 60:02d}", "minutes": 30}],
            }
            for k, h in enumerate(p.shift_starts)
        ]
        lines = []
        for line_id in sorted({m.line_id for m in topo.machines if m.plant == p}):
            machines = []
            for m in (m for m in topo.machines if m.line_id == line_id):
                sensors = dims["sensor"][dims["sensor"]["machine_id"] == m.machine_id]
                machines.append(
                    {
                        "id": m.machine_id,
                        "name": f"Machine {m.machine_id.split('-M')[1]}",
                        "ideal_cycle_s": m.ideal_cycle_s,
                        "sensors": [_sensor(s) for s in sensors.itertuples()],
                    }
                )
            lines.append({"id": line_id, "name": f"Line {line_id.split('-L')[1]}", "machines": machines})
        policies = dims["stock_policy"][dims["stock_policy"]["plant_id"] == p.plant_id]
        stock = [
            {
                "material": s.material_id,
                "reorder_point": float(s.reorder_point),
                "safety_stock": float(s.safety_stock),
                "lead_time_days": float(s.lead_time_days),
            }
            for s in policies.itertuples()
        ]
        plants.append(
            {
                "id": p.plant_id,
                "name": p.name,
                "timezone": p.tz,
                "sap_plant": SAP_PLANTS[p.plant_id],
                "shifts": shifts,
                "lines": lines,
                "stock": stock,
            }
        )
    reasons = [{"code": c, "label": lab, "category": cat} for c, lab, cat in simulator.REASONS]
    materials = [
        {"id": mid, "name": name, "unit": unit, "unit_cost": cost, "sap_material": sap_material(k)}
        for k, (mid, name, unit, cost) in enumerate(simulator.MATERIALS)
    ]
    return {"plants": plants, "downtime_reasons": reasons, "materials": materials}


def _sensor(s: object) -> dict:
    out = {"id": int(s.sensor_id), "kind": s.kind, "unit": s.unit}
    for name, value in (("lo", s.lo_limit), ("hi", s.hi_limit)):
        if value is not None and value == value:  # NaN: no limit
            out[name] = float(value)
    return out


def model(topo: simulator.Topology) -> PlantModel:
    return parse(as_dict(topo))


def apply_demo(engine: Engine, topo: simulator.Topology) -> None:
    """Apply examples/plant.yaml (or, for other DEMO_* sizes, the same model built from ``topo``)."""
    wanted = model(topo)
    path = EXAMPLE if EXAMPLE.exists() and load(EXAMPLE) == wanted else None
    try:
        plan = apply.apply(engine, wanted)
    except apply.HistoryError as exc:  # an older demo with other DEMO_* sizes: keep its plants
        log.warning("demo plant model not applied: %s", exc)
        return
    if not plan.empty:
        log.info("applied %s: %s", path or "the demo plant model", plan.lines()[-1])
