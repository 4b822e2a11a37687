"""SAP MB51: every mapped movement type and the reversals, against stock levels worked out by hand."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pandas as pd
import pytest
from flask import Flask

from dashboard import cache, data
from dashboard.config import Settings
from dashboard.sources import apply, importer, mb51, model
from tests.test_importer import PLANT

COLUMNS = [
    "Posting Date",
    "Movement Type",
    "Plant",
    "Storage Location",
    "Material",
    "Batch",
    "Qty in Un. of Entry",
    "Unit of Entry",
    "Material Document",
    "Item",
]
D1, D2 = "02.03.2026", "2026-03-03"  # both ways SAP users export dates
LINES = [
    # STEEL (SAP 4711, kg), opening balance 1,000 kg from an inventory-level file
    (D1, "101", 500),
    (D1, "102", -100),
    (D1, "122", -50),  # receipts 500 - 100 - 50 = 350
    (D1, "261", -300),
    (D1, "262", 40),
    (D1, "201", -20),
    (D1, "202", 5),  # consumption 300 - 40 + 20 - 5 = 275
    (D1, "311", -200),
    (D1, "311", 200),
    (D1, "312", 30),
    (D1, "312", -30),  # transfers within the plant: 0
    (D1, "551", -10),
    (D1, "552", 4),  # scrapping and its reversal: -6
    (D1, "601", -250),
    (D1, "602", 25),  # shipments 250 - 25 = 225
    (D1, "321", 10),  # quality inspection to unrestricted: no change at plant level, skipped
    (D2, "701", 12),
    (D2, "702", -7),
    (D2, "261", "150-"),  # inventory +12 - 7, consumption 150 (SAP's trailing minus)
]
PAINT = [(D1, "561", 80), (D1, "562", -10), (D1, "261", -15)]  # PAINT (SAP 000000000000004712, L): opening by 561
# By hand: STEEL end of 2 March = 1000 + 350 - 275 - 225 - 6 + 0 = 844; end of 3 March = 844 + 12 - 7 - 150 = 699.
#          PAINT end of 2 March = 0 + 80 - 10 - 15 = 55.


def _mb51(lines: list[tuple], material: str = "4711", unit: str = "KG") -> pd.DataFrame:
    return pd.DataFrame(
        [
            (d, t, "1000", "0001" if i % 2 else "0002", material, "B1", q, unit, f"49000{i:05d}", 1)
            for i, (d, t, q) in enumerate(lines)
        ],
        columns=COLUMNS,
    )


@pytest.fixture
def plant(db_engine, tmp_path):
    apply.apply(db_engine, model.parse(PLANT))
    data.init_app(Flask("t"), db_engine, Settings(refresh_seconds=5))
    opening = tmp_path / "opening.csv"
    opening.write_text("plant_id,material_id,ts,on_hand\nBER,STEEL,2026-03-01 00:00,1000\n")
    assert importer.import_file(db_engine, opening).status == "done"
    return db_engine


def _file(tmp_path, frame: pd.DataFrame, fmt: str, name: str = "mb51"):
    path = tmp_path / f"{name}.{fmt}"
    frame.to_csv(path, index=False) if fmt == "csv" else frame.to_excel(path, index=False)
    return path


def _levels(material: str) -> list[tuple[str, float]]:
    frame = data.inventory_levels(datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC), None, material)
    return [
        (ts.tz_convert("Europe/Berlin").strftime("%Y-%m-%d %H:%M"), v) for ts, v in zip(frame["ts"], frame["on_hand"])
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_movement_type_and_reversal_against_levels_by_hand(plant, tmp_path, fmt):
    frame = pd.concat([_mb51(LINES), _mb51(PAINT, "000000000000004712", "L")], ignore_index=True)
    path = _file(tmp_path, frame, fmt)
    result = importer.import_file(plant, path)
    assert result.kind == "mb51" and result.status == "done", result.summary()
    assert "1 line(s) of types that do not change a plant's stock" in result.message
    # STEEL: receipt, consumption, transfer, adjustment, shipment on 2 March; adjustment, consumption on 3 March.
    # PAINT: adjustment and consumption on 2 March.
    assert (result.counts.new, result.refused) == (7 + 2, 0)
    assert _levels("STEEL") == [("2026-03-01 00:00", 1000), ("2026-03-03 00:00", 844), ("2026-03-04 00:00", 699)]
    assert _levels("PAINT") == [("2026-03-03 00:00", 55)]
    flows = data.inventory_flows(
        datetime(2026, 3, 1, 23, tzinfo=UTC), datetime(2026, 3, 2, 23, tzinfo=UTC), None, "Europe/Berlin"
    )
    by_kind = dict(zip(flows["kind"], flows["value"]))
    assert by_kind == {"consumption": pytest.approx(275 * 2.5 + 15 * 10), "receipt": pytest.approx(350 * 2.5)}

    again = importer.import_file(plant, path)
    assert (again.counts.new, again.counts.changed, again.counts.unchanged) == (0, 0, 9)
    assert "stock levels: 0 new, 0 changed, 3 unchanged" in again.message

    corrected = frame.copy()
    corrected.loc[3, "Qty in Un. of Entry"] = -310  # the 261 on 2 March was 310 kg, not 300
    fixed = importer.import_file(plant, _file(tmp_path, corrected, fmt, "mb51-fixed"))
    assert (fixed.counts.changed, fixed.counts.unchanged) == (1, 8)
    time.sleep(cache.generations.max_age_s + 0.1)  # the cached levels are dropped within one refresh interval
    assert _levels("STEEL")[1:] == [("2026-03-03 00:00", 834), ("2026-03-04 00:00", 689)]


def test_bad_mb51_lines_are_named(plant, tmp_path):
    frame = _mb51([(D1, "101", 5), (D1, "999", 5), (D1, "101", "five"), ("32.03.2026", "101", 1)])
    frame.loc[4] = [D1, "101", "9999", "0001", "4711", "", 1, "KG", "1", 1]
    frame.loc[5] = [D1, "101", "1000", "0001", "4711", "", 1, "G", "1", 1]
    frame.loc[6] = [D1, "101", "1000", "0001", "5555", "", 1, "KG", "1", 1]
    result = importer.import_file(plant, _file(tmp_path, frame, "csv"))
    assert result.status == "refused" and result.refused == 6
    assert [(b.row, b.column, b.reason.split(" ")[-1]) for b in result.bad] == [
        (3, "movement_type", "README)"),
        (4, "qty_in_un_of_entry", "quantity"),
        (5, "posting_date", "02.03.2026)"),
        (6, "plant", "model"),
        (7, "unit_of_entry", "units"),
        (8, "material", "model"),
    ]
    assert result.bad[0].reason == "'999' is not in the movement type table (see README)"
    assert result.bad[4].reason == "'G' is not the material's unit 'kg': export in base units"


def test_the_table_is_documented_in_the_readme():
    readme = (importer.readers.Path(__file__).resolve().parent.parent / "README.md").read_text()
    for code, (kind, _, meaning) in mb51.MOVEMENTS.items():
        assert f"| {code} | {kind} |" in readme and meaning in readme
