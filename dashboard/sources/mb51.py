"""SAP MB51 material document lists -> inventory movements per plant-local day, and stock levels from them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dashboard.sources import readers
from dashboard.sources.convert import Lookups, Problems, _text, text
from dashboard.sources.writer import write

if TYPE_CHECKING:
    from dashboard.sources.importer import Result

REQUIRED = {"posting_date", "movement_type", "plant", "material", "qty_in_un_of_entry"}
# movement type -> (our kind, direction, meaning). Direction +1/-1: the quantity's size counts that way whatever
# sign the export shows; 0: the line's own sign (both lines of a transfer are in the list, and net to zero).
# receipt, consumption and shipment quantities are amounts (a reversal is negative); adjustment and transfer
# quantities are signed changes of stock. Stock = opening + receipts - consumption - shipments + adjustments
# + transfers.
MOVEMENTS: dict[str, tuple[str, int, str]] = {
    "101": ("receipt", +1, "goods receipt for a purchase order"),
    "102": ("receipt", -1, "reversal of 101"),
    "122": ("receipt", -1, "return delivery to the vendor"),
    "201": ("consumption", +1, "goods issue to a cost center"),
    "202": ("consumption", -1, "reversal of 201"),
    "261": ("consumption", +1, "goods issue to a production order"),
    "262": ("consumption", -1, "reversal of 261"),
    "311": ("transfer", 0, "transfer between storage locations of one plant (nets to zero)"),
    "312": ("transfer", 0, "reversal of 311"),
    "551": ("adjustment", -1, "withdrawal for scrapping"),
    "552": ("adjustment", +1, "reversal of 551"),
    "561": ("adjustment", +1, "initial entry of stock balances (the opening balance)"),
    "562": ("adjustment", -1, "reversal of 561"),
    "601": ("shipment", +1, "goods issue for a delivery to a customer"),
    "602": ("shipment", -1, "reversal of 601"),
    "701": ("adjustment", +1, "physical inventory: stock found"),
    "702": ("adjustment", -1, "physical inventory: stock missing"),
}
# Moves between stock types of one plant (quality inspection, blocked): the plant's stock does not change.
IGNORED = {"321", "322", "343", "344", "349", "350"}
EFFECT = {"receipt": 1, "consumption": -1, "shipment": -1, "adjustment": 1, "transfer": 1}
UNITS = {"PC": "PCS", "ST": "PCS", "EA": "PCS", "PCS": "PCS", "KG": "KG", "G": "G", "L": "L", "LTR": "L", "M": "M"}
_GERMAN = re.compile(r"^-?\d{1,3}(\.\d{3})*(,\d+)?$")


def _code(v: object) -> str:
    """SAP pads numeric codes with zeros ('000000000000100010'): compare without them."""
    s = str(v).strip()
    return s.lstrip("0") or "0" if s.isdigit() else s


def _each(values: object, fn: object) -> pd.Series:
    """``fn`` applied once per distinct value (an export of millions of lines has a few hundred codes)."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    mapped = np.array([fn(u) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes])  # code -1 (empty) picks the trailing None


def _qty(t: pa.Table, p: Problems) -> np.ndarray:
    col = t["qty_in_un_of_entry"]
    try:
        return np.asarray(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    raw = pd.Series(col.to_numpy(zero_copy_only=False), dtype=object).astype("string").str.strip()
    raw = raw.str.replace(r"^(.*)-$", r"-\1", regex=True)  # SAP writes '80-' for -80
    german = raw.str.match(_GERMAN) & raw.str.contains(",", regex=False)
    raw = raw.where(~german, raw.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    p.add(np.isnan(values), "qty_in_un_of_entry", lambda i: f"{_text(col[i].as_py())} is not a quantity")
    return values


def _dates(t: pa.Table, p: Problems) -> np.ndarray:
    raw = text(t, "posting_date", p)
    codes, uniques = pd.factorize(pd.Series(raw, dtype=object))  # a year of postings has 365 distinct dates
    u = pd.Series(uniques, dtype=object).astype("string").str.strip().str[:10]
    day = pd.to_datetime(u, format="%Y-%m-%d", errors="coerce").fillna(
        pd.to_datetime(u, format="%d.%m.%Y", errors="coerce")
    )
    days = np.append(day.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT"))[codes]
    bad = np.append(day.isna().to_numpy(), False)[codes]
    p.add(bad, "posting_date", lambda i: f"{_text(raw[i])} is not a date (2026-03-02 or 02.03.2026)")
    return days


def _midnights(days: pd.Series, tz: str) -> pd.DatetimeIndex:
    """Local midnight of each date in ``tz``, in UTC (where midnight does not exist, the first minute after it)."""
    naive = pd.DatetimeIndex(pd.to_datetime(days)).normalize()
    return naive.tz_localize(tz, nonexistent="shift_forward", ambiguous=np.zeros(len(naive), dtype=bool)).tz_convert(
        "UTC"
    )


def _maps(conn: Connection) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    plants = dict(conn.execute(sa.text("select sap_code, plant_id from plant where sap_code is not null")).all())
    materials = {}
    for mid, sap, unit in conn.execute(sa.text("select material_id, sap_code, unit from material")).all():
        materials[_code(mid)] = (mid, unit)
        if sap:
            materials[_code(sap)] = (mid, unit)
    return {_code(k): v for k, v in plants.items()}, materials


def _chunk(t: pa.Table, p: Problems, look: Lookups, plants: dict, materials: dict) -> pd.DataFrame:
    mtype = _each(text(t, "movement_type", p), _code)
    known = mtype.isin(MOVEMENTS.keys()).to_numpy()
    ignored = mtype.isin(IGNORED).to_numpy()
    p.add(
        ~known & ~ignored & mtype.notna().to_numpy(),
        "movement_type",
        lambda i: f"{_text(mtype.iloc[i])} is not in the movement type table (see README)",
    )
    sap_plant = _each(text(t, "plant", p), _code)
    plant = sap_plant.map(plants)
    p.add(
        plant.isna().to_numpy() & sap_plant.notna().to_numpy(),
        "plant",
        lambda i: f"{_text(sap_plant.iloc[i])} is no plant's sap_plant in the plant model",
    )
    sap_mat = _each(text(t, "material", p), _code)
    mat = sap_mat.map(materials)
    p.add(
        mat.isna().to_numpy() & sap_mat.notna().to_numpy(),
        "material",
        lambda i: f"{_text(sap_mat.iloc[i])} is no material's sap_material (or id) in the plant model",
    )
    material = _each(mat, lambda v: v[0] if isinstance(v, tuple) else None)
    pairs = pd.MultiIndex.from_arrays([plant.astype(object), material.astype(object)]).isin(list(look.stock))
    p.add(
        ~pairs,
        "material",
        lambda i: f"{_text(material.iloc[i])} has no stock policy at plant {_text(plant.iloc[i])} in the plant model",
    )
    if "unit_of_entry" in t.column_names:
        unit = pd.Series(text(t, "unit_of_entry", p, required=False), dtype=object)
        ours = _each(mat, lambda v: v[1] if isinstance(v, tuple) else None)
        norm = lambda s: _each(s, lambda u: UNITS.get(str(u).upper(), str(u).upper()) if isinstance(u, str) else None)  # noqa: E731
        wrong = (norm(unit) != norm(ours)).to_numpy() & unit.notna().to_numpy() & ours.notna().to_numpy()
        p.add(
            wrong,
            "unit_of_entry",
            lambda i: f"{_text(unit.iloc[i])} is not the material's unit {_text(ours.iloc[i])}: export in base units",
        )
    qty, day = _qty(t, p), _dates(t, p)
    kind = _each(mtype, lambda v: MOVEMENTS.get(v, (None,))[0])
    direction = _each(mtype, lambda v: MOVEMENTS.get(v, (None, 0))[1]).to_numpy(dtype=float)
    signed = np.where(direction == 0, qty, direction * np.abs(qty))
    keep = ~p.mask & known
    return pd.DataFrame({"plant_id": plant, "material_id": material, "day": day, "kind": kind, "qty": signed})[keep]


def run(conn: Connection, path: Path, result: Result, look: Lookups, progress: bool) -> None:
    """Movements summed per plant, material, plant-local posting day and kind; then levels from them."""
    plants, materials = _maps(conn)
    plants = {code: plant for code, plant in plants.items() if plant in look.plants}  # plant scope
    sums: list[pd.DataFrame] = []
    skipped = 0
    for chunk in readers.chunks(path, progress):
        p = Problems(chunk.table.num_rows, chunk.first_row)
        frame = _chunk(chunk.table, p, look, plants, materials)
        skipped += chunk.table.num_rows - len(frame) - int(p.mask.sum())
        result.refused += int(p.mask.sum())
        result.bad += p.listed(100 - len(result.bad))
        sums.append(frame.groupby(["plant_id", "material_id", "day", "kind"], as_index=False)["qty"].sum())
    if skipped:
        result.message = (
            f"{skipped} line(s) of types that do not change a plant's stock ({', '.join(sorted(IGNORED))}) skipped"
        )
    if result.refused or not sums:
        return
    moves = pd.concat(sums).groupby(["plant_id", "material_id", "day", "kind"], as_index=False)["qty"].sum()
    stamps = np.zeros(len(moves), dtype="datetime64[us]")
    for plant, rows in moves.groupby("plant_id").indices.items():
        stamps[rows] = _midnights(moves["day"].iloc[rows], look.plants[plant]).tz_localize(None).to_numpy()
    moves["ts"] = pd.DatetimeIndex(stamps).tz_localize("UTC")
    result.counts += write(conn, "inventory_movement", moves[["plant_id", "material_id", "ts", "kind", "qty"]])
    levels = write(conn, "inventory_level", stock_levels(conn, moves, look))
    note = f"stock levels: {levels.new} new, {levels.changed} changed, {levels.unchanged} unchanged"
    result.message = f"{note}; {result.message}" if result.message else note
    from dashboard import ingest

    ingest.bump(conn, ("inventory",))


def stock_levels(conn: Connection, moves: pd.DataFrame, look: Lookups) -> pd.DataFrame:
    """On hand at the end of each plant-local day from the first day of ``moves`` on: the last level recorded at
    or before that day's start (0 if none) plus every movement since."""
    out = []
    for (plant, material), part in moves.groupby(["plant_id", "material_id"]):
        tz, start = look.plants[plant], part["ts"].min()
        opening = conn.execute(
            sa.text(
                "select on_hand from inventory_level where plant_id = :p and material_id = :m and ts <= :s"
                " order by ts desc limit 1"
            ),
            {"p": plant, "m": material, "s": start.to_pydatetime()},
        ).scalar()
        rows = pd.read_sql(
            sa.text(
                "select ts, kind, qty from inventory_movement where plant_id = :p and material_id = :m and ts >= :s"
            ),
            conn,
            params={"p": plant, "m": material, "s": start.to_pydatetime()},
        )
        rows["change"] = rows["qty"] * rows["kind"].map(EFFECT)
        rows["day"] = pd.to_datetime(rows["ts"], utc=True).dt.tz_convert(tz).dt.normalize()
        daily = rows.groupby("day")["change"].sum().sort_index().cumsum() + (opening or 0.0)
        ends = _midnights(
            pd.Series(daily.index.tz_localize(None) + pd.Timedelta(days=1)), tz
        )  # the next local midnight
        out.append(
            pd.DataFrame(
                {
                    "plant_id": plant,
                    "material_id": material,
                    "ts": ends,
                    "on_hand": daily.to_numpy(),
                }
            )
        )
    cols = ["plant_id", "material_id", "ts", "on_hand"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)
