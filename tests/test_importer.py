"""History import: each kind from CSV and Excel read back through the pages' data functions, re-import writes
nothing, corrections replace, bad rows are named and refuse the file whole."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from flask import Flask

from dashboard import cache, data, rollups
from dashboard.config import Settings
from dashboard.sources import apply, importer, model, readers

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 1, 14)  # winter: Berlin is UTC+1

PLANT = {
    "plants": [
        {
            "id": "BER",
            "name": "Berlin",
            "timezone": "Europe/Berlin",
            "sap_plant": "1000",
            "lines": [
                {
                    "id": "BER-L1",
                    "name": "Line 1",
                    "machines": [
                        {
                            "id": "B1",
                            "name": "Press",
                            "ideal_cycle_s": 2.0,
                            "sensors": [{"id": 7, "kind": "temperature", "unit": "°C", "hi": 80}],
                        },
                        {"id": "B2", "name": "Lathe", "ideal_cycle_s": 3.0},
                    ],
                }
            ],
            "stock": [
                {"material": "STEEL", "reorder_point": 500, "safety_stock": 200, "lead_time_days": 3},
                {"material": "PAINT", "reorder_point": 50, "safety_stock": 20, "lead_time_days": 5},
            ],
        }
    ],
    "downtime_reasons": [{"code": "jam", "label": "Part jam", "category": "minor_stop"}],
    "materials": [
        {"id": "STEEL", "name": "Steel coil", "unit": "kg", "unit_cost": 2.5, "sap_material": "4711"},
        {"id": "PAINT", "name": "Paint", "unit": "L", "unit_cost": 10, "sap_material": "000000000000004712"},
    ],
}


@pytest.fixture
def plant(db_engine):
    apply.apply(db_engine, model.parse(PLANT))
    data.init_app(Flask("t"), db_engine, Settings(refresh_seconds=5))
    return db_engine


def _file(tmp_path: Path, name: str, frame: pd.DataFrame, fmt: str) -> Path:
    path = tmp_path / f"{name}.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_excel(path, index=False)
    return path


def _production(good: int = 18) -> pd.DataFrame:
    """B1, Berlin 09:00-09:29 local on the 14th (no offset: plant-local) at 50 s run, 20 made, ``good`` good;
    B2 08:00-08:09 UTC given with an offset, 60 s run, 15 made, 15 good, its own cycle time (3 s) by default."""
    b1 = pd.DataFrame(
        {
            "machine_id": "B1",
            "ts": pd.date_range("2026-01-14 09:00", periods=30, freq="min").strftime("%Y-%m-%d %H:%M"),
            "planned_s": 60,
            "run_s": 50,
            "total_count": 20,
            "good_count": good,
            "ideal_cycle_s": 2.0,
        }
    )
    b2 = pd.DataFrame(
        {
            "machine_id": "B2",
            "ts": pd.date_range("2026-01-14 08:00", periods=10, freq="min").strftime("%Y-%m-%dT%H:%M:00Z"),
            "planned_s": 60,
            "run_s": 60,
            "total_count": 15,
            "good_count": 15,
            "ideal_cycle_s": None,
        }
    )
    return pd.concat([b1, b2], ignore_index=True)


def _run(engine, path: Path, **kw) -> importer.Result:
    result = importer.import_file(engine, path, user="tester", **kw)
    rollups.refresh(engine)
    return result


def _counts(r: importer.Result) -> tuple[int, int, int, int]:
    return r.counts.new, r.counts.changed, r.counts.unchanged, r.refused


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_production_read_back_reimport_and_correction(plant, tmp_path, fmt):
    path = _file(tmp_path, "prod", _production(), fmt)
    first = _run(plant, path)
    assert (first.kind, first.status, _counts(first)) == ("production", "done", (40, 0, 0, 0))
    by_machine = data.oee_daily(DAY, DAY, "machine").set_index("key")
    # B1: 30 min x 18 good x 2 s = 1080 s fully productive of 1800 s planned -> OEE 0.6; availability 50/60.
    assert by_machine.loc["B1", "good_count"] == 540 and by_machine.loc["B1", "oee"] == pytest.approx(0.6)
    assert by_machine.loc["B1", "availability"] == pytest.approx(50 / 60)
    # B2: 10 min x 15 good x 3 s (the machine's cycle) = 450 s of 600 s -> 0.75.
    assert by_machine.loc["B2", "oee"] == pytest.approx(0.75)
    # 09:00 Berlin is 08:00 UTC: B1's first minute sits in the 08:00 UTC hour.
    totals = data.oee_totals(datetime(2026, 1, 14, 8, tzinfo=UTC), datetime(2026, 1, 14, 8, 1, tzinfo=UTC), "machine")
    assert set(totals["key"]) == {"B1", "B2"}
    again = _run(plant, path)
    assert _counts(again) == (0, 0, 40, 0)
    corrected = _production()
    corrected.loc[5, "good_count"] = 8  # one minute of B1 had 10 more rejects than first reported
    third = _run(plant, _file(tmp_path, "prod2", corrected, fmt))
    assert _counts(third) == (0, 1, 39, 0)
    time.sleep(cache.generations.max_age_s + 0.1)  # each process reads the generations at most once a second
    fresh = data.oee_daily(DAY, DAY, "machine").set_index("key")  # the generation moved: not the cached answer
    assert fresh.loc["B1", "good_count"] == 530


def test_downtime_read_back(plant, tmp_path):
    frame = pd.DataFrame(
        {
            "machine_id": ["B1", "B2", "B1"],
            "start_ts": ["2026-01-14 10:00", "2026-01-14T09:30:00Z", "2026-01-14 12:00"],
            "end_ts": ["2026-01-14 10:22", "2026-01-14T09:35:30Z", "2026-01-14 12:04"],
            "reason_code": ["jam", None, "jam"],
        }
    )
    for fmt in ("csv", "xlsx"):
        result = _run(plant, _file(tmp_path, "down", frame, fmt))
        assert result.kind == "downtime" and result.status == "done"
    assert _counts(result) == (0, 0, 3, 0)  # the Excel file held the same rows
    reasons = data.downtime_by_reason(datetime(2026, 1, 14, tzinfo=UTC), datetime(2026, 1, 15, tzinfo=UTC)).set_index(
        "reason_code"
    )
    assert reasons.loc["jam", "seconds"] == 26 * 60 and reasons.loc["jam", "events"] == 2
    assert reasons.loc["unknown", "seconds"] == 330  # no reason given: 'unknown', shown not hidden


def test_telemetry_by_sensor_name_and_by_id(plant, tmp_path):
    by_name = pd.DataFrame(
        {
            "machine_id": "B1",
            "sensor": "temperature",
            "ts": ["2026-01-14 10:00:00", "2026-01-14 10:00:01", "2026-01-14 10:00:02"],
            "value": [50.5, 51, 81.25],
        }
    )
    assert _counts(_run(plant, _file(tmp_path, "tel", by_name, "xlsx"))) == (3, 0, 0, 0)
    by_id = pd.DataFrame(
        {"sensor_id": [7, 7], "ts": ["2026-01-14T09:00:02Z", "2026-01-14T09:00:03Z"], "value": [81.25, 60.0]}
    )
    assert _counts(_run(plant, _file(tmp_path, "tel2", by_id, "csv"))) == (1, 0, 1, 0)  # 10:00:02 Berlin = 09:00:02Z
    series = data.sensor_series(7, datetime(2026, 1, 14, 9, tzinfo=UTC), datetime(2026, 1, 14, 9, 1, tzinfo=UTC), 800)
    assert list(series.y) == [50.5, 51.0, 81.25, 60.0] and series.points_in_window == 4
    assert list(series.alarm_y) == [81.25]  # above the plant model's hi limit of 80


def test_inventory_levels_and_movements_read_back(plant, tmp_path):
    now = pd.Timestamp.now(tz="UTC").floor("h")
    levels = pd.DataFrame(
        {
            "plant_id": "BER",
            "material_id": ["STEEL", "PAINT"],
            "ts": [(now - pd.Timedelta(hours=1)).isoformat()] * 2,
            "on_hand": [800, 40],
        }
    )
    moves = pd.DataFrame(
        {
            "plant_id": "BER",
            "material_id": ["STEEL"] * 7 + ["PAINT", "PAINT"],
            "ts": [(now - pd.Timedelta(days=i, hours=2)).isoformat() for i in range(7)]
            + [(now - pd.Timedelta(days=3)).isoformat(), (now - pd.Timedelta(days=1)).isoformat()],
            "kind": ["consumption"] * 9,
            "qty": [100] * 7 + [30, 40],
        }
    )
    assert _run(plant, _file(tmp_path, "lv", levels, "csv")).kind == "inventory-level"
    assert _counts(_run(plant, _file(tmp_path, "mv", moves, "xlsx"))) == (9, 0, 0, 0)
    status = data.inventory_status(now.to_pydatetime()).set_index("material_id")
    # STEEL: 800 kg, 700 used in 7 days -> 100 a day, 8 days of cover, $2,000. PAINT: 70 L in 7 days -> 4 days.
    assert status.loc["STEEL", "days_of_cover"] == pytest.approx(8) and status.loc["STEEL", "value"] == 2000
    assert status.loc["PAINT", "days_of_cover"] == pytest.approx(4) and bool(status.loc["PAINT", "below_reorder"])


def test_bad_rows_are_named_and_refuse_the_whole_file(plant, tmp_path):
    frame = _production().astype(object)
    frame.loc[2, "run_s"] = 70  # row 4 (the header is row 1)
    frame.loc[6, "machine_id"] = "B9"
    frame.loc[7, "total_count"] = "twelve"
    frame.loc[8, "ts"] = "yesterday"
    frame.loc[9, "good_count"] = 21
    path = _file(tmp_path, "bad", frame, "csv")
    result = _run(plant, path)
    assert result.status == "refused" and result.refused == 5 and _counts(result)[:3] == (0, 0, 0)
    assert [(b.row, b.column, b.reason) for b in result.bad] == [
        (4, "run_s", "70 is not between 0 and planned_s (60)"),
        (8, "machine_id", "'B9' is not a machine in the plant model"),
        (9, "total_count", "'twelve' is not a number"),
        (10, "ts", "'yesterday' is not a time (ISO 8601, e.g. 2026-01-14 06:00 or 2026-01-14T06:00:00+01:00)"),
        (11, "good_count", "21 is not between 0 and total_count"),
    ]
    with plant.connect() as conn:
        assert conn.execute(sa.text("select count(*) from production")).scalar() == 0
        run = conn.execute(sa.text("select file, kind, username, status, rows_refused, message from import_run")).one()
    assert run[:5] == ("bad.csv", "production", "tester", "refused", 5) and "nothing was written" in run[5]


def test_nothing_half_written_when_a_late_chunk_is_bad(plant, tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "CHUNK_BYTES", 512)  # many chunks: the first ones are good and get written
    frame = _production()
    frame.loc[39, "planned_s"] = 61
    result = _run(plant, _file(tmp_path, "late", frame, "csv"))
    assert result.status == "refused" and [(b.row, b.column) for b in result.bad] == [(41, "planned_s")]
    with plant.connect() as conn:
        assert conn.execute(sa.text("select count(*) from production")).scalar() == 0


def test_dst_gap_in_local_times_is_named(plant, tmp_path):
    frame = _production().head(2)
    frame.loc[1, "ts"] = "2026-03-29 02:30"  # Berlin's clocks jump from 02:00 to 03:00 that night
    result = _run(plant, _file(tmp_path, "dst", frame, "csv"))
    assert [(b.row, b.column) for b in result.bad] == [(3, "ts")] and "DST" in result.bad[0].reason


def test_dry_run_counts_and_writes_nothing(plant, tmp_path):
    result = _run(plant, _file(tmp_path, "dry", _production(), "csv"), dry_run=True)
    assert (result.status, _counts(result)) == ("dry-run", (40, 0, 0, 0))
    with plant.connect() as conn:
        assert conn.execute(sa.text("select count(*) from production")).scalar() == 0


def test_cli_reports_bad_rows_and_exits_non_zero(plant, tmp_path):
    url = plant.url.render_as_string(hide_password=False)
    frame = _production()
    frame.loc[0, "run_s"] = -1
    bad = _file(tmp_path, "bad", frame, "csv")
    out = subprocess.run(
        [sys.executable, "-m", "dashboard.importer", str(bad), "--database-url", url, "--user", "cli"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "bad.csv (production): refused: 0 new, 0 changed, 0 unchanged, 1 refused" in out.stdout
    assert "bad.csv row 2, column run_s: -1 is not between 0 and planned_s (60)" in out.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "dashboard.importer", str(tmp_path / "nope.csv"), "--database-url", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 1 and "does not exist" in missing.stdout and "Traceback" not in missing.stderr


def test_unknown_header_is_refused_in_words(plant, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("when,what\n2026-01-01,1\n")
    result = importer.import_file(plant, path)
    assert result.status == "failed" and "fits no kind of file" in result.message
    wrong = importer.import_file(plant, _file(tmp_path, "p", _production(), "csv"), kind="telemetry")
    assert wrong.status == "failed" and "lacks column(s) value" in wrong.message


def test_examples_import_into_the_demo_plant(db_engine):
    apply.apply(db_engine, model.load(ROOT / "examples" / "plant.yaml"))
    for path in sorted((ROOT / "examples").glob("*.*")):
        if path.suffix in (".csv", ".xlsx"):
            result = importer.import_file(db_engine, path)
            assert result.status == "done" and result.counts.new + result.counts.unchanged > 0, result.summary()


def test_parquet_with_its_own_types(plant, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = _production()
    aware = pd.to_datetime(frame["ts"].where(frame["machine_id"] == "B2"), utc=True)
    local = pd.to_datetime(frame["ts"].where(frame["machine_id"] == "B1"), format="%Y-%m-%d %H:%M")
    stamps = aware.fillna(local.dt.tz_localize("Europe/Berlin").dt.tz_convert("UTC"))
    table = pa.table(
        {
            "machine_id": frame["machine_id"],
            "ts": pa.array(stamps, pa.timestamp("us", tz="UTC")),
            "planned_s": frame["planned_s"].astype(float),
            "run_s": frame["run_s"].astype(float),
            "total_count": frame["total_count"],
            "good_count": frame["good_count"],
        }
    )
    pq.write_table(table, tmp_path / "prod.parquet")
    result = _run(plant, tmp_path / "prod.parquet")
    assert (result.kind, _counts(result)) == ("production", (40, 0, 0, 0))
    csv_again = _run(plant, _file(tmp_path, "prod", _production(), "csv"))  # the same rows, told as text
    assert _counts(csv_again) == (0, 0, 40, 0)


def test_plant_scope_refuses_another_plants_rows(plant, tmp_path):
    apply.apply(
        plant,
        model.parse(
            {
                **PLANT,
                "plants": [
                    *PLANT["plants"],
                    {
                        "id": "DET",
                        "name": "Detroit",
                        "timezone": "America/Detroit",
                        "sap_plant": "2000",
                        "lines": [
                            {
                                "id": "DET-L1",
                                "name": "Line 1",
                                "machines": [{"id": "D1", "name": "Press", "ideal_cycle_s": 1.0}],
                            }
                        ],
                        "stock": [{"material": "STEEL", "reorder_point": 1, "safety_stock": 1, "lead_time_days": 1}],
                    },
                ],
            }
        ),
    )
    frame = _production().head(2)
    frame.loc[1, "machine_id"] = "D1"
    path = _file(tmp_path, "mixed", frame, "csv")
    scoped = importer.import_file(plant, path, plants=("BER",))
    assert scoped.status == "refused" and [(b.row, b.reason) for b in scoped.bad] == [
        (3, "'D1' is not a machine in the plant model")
    ]
    assert importer.import_file(plant, path, plants=("BER", "DET")).status == "done"
    mb = tmp_path / "mb51.csv"
    mb.write_text("Posting Date,Movement Type,Plant,Material,Qty in Un. of Entry\n02.03.2026,101,2000,4711,5\n")
    refused = importer.import_file(plant, mb, plants=("BER",))
    assert [(b.column, b.reason) for b in refused.bad] == [
        ("plant", "'2000' is no plant's sap_plant in the plant model")
    ]


def test_many_chunks_mixing_old_changed_and_new_rows_count_right(plant, tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "CHUNK_BYTES", 300)  # chunks that split a minute's rows between them
    first = _production().sort_values("ts", kind="stable")
    assert _counts(_run(plant, _file(tmp_path, "a", first, "csv"))) == (40, 0, 0, 0)
    later = _production()
    later["ts"] = pd.date_range("2026-01-14 10:00", periods=40, freq="min").strftime("%Y-%m-%d %H:%M")
    later["machine_id"] = "B1"
    later["ideal_cycle_s"] = 2.0
    both = pd.concat([first, later], ignore_index=True)
    both.loc[3, "good_count"] = 17
    result = _run(plant, _file(tmp_path, "b", both, "csv"))
    assert _counts(result) == (40, 1, 39, 0)
    # B1 539 (one minute 18 -> 17) + B2 150 + the later 40 minutes on B1: 30 x 18 + 10 x 15 = 690.
    assert data.oee_daily(DAY, DAY, "plant").iloc[0]["good_count"] == 539 + 150 + 690
