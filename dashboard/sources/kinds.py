"""The kinds of history file, their columns and units, and recognising a kind from a header row."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # text, int, float, time
    required: bool = True
    unit: str = ""
    meaning: str = ""


@dataclass(frozen=True)
class Kind:
    name: str
    table: str
    columns: tuple[Column, ...]
    about: str

    @property
    def required(self) -> set[str]:
        return {c.name for c in self.columns if c.required}

    @property
    def known(self) -> set[str]:
        return {c.name for c in self.columns}


_TS = Column("ts", "time", meaning="ISO 8601; without an offset it is the plant's local time")
KINDS = {
    k.name: k
    for k in (
        Kind(
            "production",
            "production",
            (
                Column("machine_id", "text", meaning="a machine of the plant model"),
                Column("ts", "time", meaning="start of the minute; ISO 8601, without an offset plant-local"),
                Column("planned_s", "float", unit="s", meaning="planned production time in the minute, 0-60"),
                Column("run_s", "float", unit="s", meaning="running time, 0 to planned_s"),
                Column("total_count", "int", unit="units", meaning="units made"),
                Column("good_count", "int", unit="units", meaning="good units, at most total_count"),
                Column("startup_rejects", "int", False, "units", "rejects while starting up (default 0)"),
                Column("ideal_cycle_s", "float", False, "s", "ideal cycle time (default: the machine's)"),
            ),
            "one row per machine and minute with planned time",
        ),
        Kind(
            "downtime",
            "downtime",
            (
                Column("machine_id", "text", meaning="a machine of the plant model"),
                Column("start_ts", "time", meaning="when the stop began"),
                Column("end_ts", "time", meaning="when it ended (after start_ts)"),
                Column("reason_code", "text", False, meaning="a downtime reason of the plant model (default unknown)"),
            ),
            "one row per stop",
        ),
        Kind(
            "telemetry",
            "telemetry",
            (
                Column("sensor_id", "int", False, meaning="the sensor's id; or machine_id and sensor instead"),
                Column("machine_id", "text", False, meaning="with sensor: a machine of the plant model"),
                Column("sensor", "text", False, meaning="with machine_id: the sensor's kind, e.g. temperature"),
                _TS,
                Column("value", "float", unit="the sensor's unit", meaning="the reading"),
            ),
            "one row per reading",
        ),
        Kind(
            "inventory-level",
            "inventory_level",
            (
                Column("plant_id", "text"),
                Column("material_id", "text", meaning="with a stock policy for the plant in the plant model"),
                _TS,
                Column("on_hand", "float", unit="the material's unit", meaning="stock on hand at ts"),
            ),
            "stock on hand snapshots",
        ),
        Kind(
            "inventory-movement",
            "inventory_movement",
            (
                Column("plant_id", "text"),
                Column("material_id", "text", meaning="with a stock policy for the plant in the plant model"),
                _TS,
                Column("kind", "text", meaning="receipt, consumption, shipment, adjustment or transfer"),
                Column(
                    "qty",
                    "float",
                    unit="the material's unit",
                    meaning="receipt/consumption/shipment: amount; adjustment/transfer: signed change",
                ),
            ),
            "stock movements",
        ),
    )
}
MOVEMENT_KINDS = ("receipt", "consumption", "shipment", "adjustment", "transfer")
# SAP MB51 (material document list) headers as SAP GUI exports them; recognised by these four.
MB51_REQUIRED = {"posting_date", "movement_type", "plant", "material", "qty_in_un_of_entry"}


def normalise(header: str) -> str:
    """'Qty in Un. of Entry' -> 'qty_in_un_of_entry'; 'Planned (s)' -> 'planned_s'."""
    h = re.sub(r"[^a-z0-9]+", "_", header.strip().lower().replace("\ufeff", ""))
    return h.strip("_")


def recognise(headers: list[str]) -> str:
    """The kind whose required columns the header row holds; ValueError in words when none or several fit."""
    cols = {normalise(h) for h in headers}
    if MB51_REQUIRED <= cols:
        return "mb51"
    fits = [k.name for k in KINDS.values() if k.required <= cols and (k.name != "telemetry" or _sensor_cols(cols))]
    if len(fits) == 1:
        return fits[0]
    if len(fits) > 1:  # inventory-movement's columns include inventory-level's key: the larger match wins
        return max(fits, key=lambda n: len(KINDS[n].required))
    wants = "; ".join(f"{k.name}: {', '.join(sorted(k.required))}" for k in KINDS.values())
    raise ValueError(
        f"the header row ({', '.join(headers[:12])}) fits no kind of file; each needs {wants}; mb51: "
        "Posting Date, Movement Type, Plant, Material, Qty in Un. of Entry"
    )


def _sensor_cols(cols: set[str]) -> bool:
    return "sensor_id" in cols or {"machine_id", "sensor"} <= cols
