"""Plant model file: round trip, exact diffs, history never lost by omission, every mistake named with its place."""

from __future__ import annotations

import copy
import subprocess
import sys

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import ingest, simulator
from dashboard.sources import apply, model, topology

ROOT = topology.ROOT


def _small() -> dict:
    """Two plants, the second with a night shift over midnight, one material."""
    return {
        "plants": [
            {
                "id": "P1",
                "name": "Plant 1",
                "timezone": "Europe/Berlin",
                "shifts": [
                    {"name": "A", "starts": "06:00", "hours": 8, "breaks": [{"starts": "10:00", "minutes": 30}]}
                ],
                "lines": [
                    {
                        "id": "P1-L1",
                        "name": "Line 1",
                        "machines": [
                            {
                                "id": "M1",
                                "name": "Press",
                                "ideal_cycle_s": 2.0,
                                "sensors": [{"kind": "temp", "unit": "°C"}],
                            },
                            {"id": "M2", "name": "Lathe", "ideal_cycle_s": 3.0},
                        ],
                    }
                ],
                "stock": [{"material": "STEEL", "reorder_point": 100, "safety_stock": 40, "lead_time_days": 3}],
            },
            {
                "id": "P2",
                "name": "Plant 2",
                "timezone": "Asia/Kolkata",
                "sap_plant": "2000",
                "shifts": [{"name": "N", "starts": "22:00", "hours": 8, "days": ["mon", "tue"]}],
            },
        ],
        "downtime_reasons": [{"code": "jam", "label": "Part jam", "category": "minor_stop"}],
        "materials": [{"id": "STEEL", "name": "Steel", "unit": "kg", "unit_cost": 1.5, "sap_material": "4711"}],
    }


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"select count(*) from {table}")).scalar()


def test_example_file_is_the_simulators_topology():
    assert model.load(topology.EXAMPLE) == topology.model(simulator.topology(42, 3, 40))


def test_round_trip_apply_reapply_edit(db_engine):
    first = apply.apply(db_engine, model.parse(_small()))
    # 2 plants, 2 shifts, 1 break, 1 line, 2 machines, 1 sensor, 1 stock policy, 1 reason, 1 material
    assert (len(first.add), len(first.change), len(first.remove)) == (12, 0, 0)
    again = apply.apply(db_engine, model.parse(_small()))
    assert again.empty and again.leave == 12
    edited = _small()
    edited["plants"][0]["lines"][0]["machines"][1]["ideal_cycle_s"] = 2.5
    edited["materials"][0]["unit_cost"] = 1.75
    third = apply.apply(db_engine, model.parse(edited))
    assert [(t, k) for t, k, *_ in third.change] == [("material", ("STEEL",)), ("machine", ("M2",))]
    assert not third.add and not third.remove and third.leave == 10
    assert "change machine M2: ideal_cycle_s 3.0 -> 2.5" in third.lines()
    with db_engine.connect() as conn:
        assert conn.execute(sa.text("select ideal_cycle_s from machine where machine_id = 'M2'")).scalar() == 2.5
        assert conn.execute(sa.text("select days from shift where plant_id = 'P2'")).scalar() == [0, 1]
        assert conn.execute(sa.text("select sap_code from material")).scalar() == "4711"


def test_example_applies_and_the_simulator_then_writes_no_dimension(db_engine):
    topo = simulator.topology(42, 3, 40)
    apply.apply(db_engine, model.load(topology.EXAMPLE))
    with db_engine.begin() as conn:
        written = {t: ingest.upsert(conn, t, f) for t, f in simulator.dimensions(topo).items()}
    assert written == dict.fromkeys(written, 0)
    assert _count(db_engine, "machine") == 40 and _count(db_engine, "sensor") == 120


def test_machine_with_history_is_not_deleted_by_omission(db_engine):
    apply.apply(db_engine, model.parse(_small()))
    row = pd.DataFrame(
        [("M2", pd.Timestamp("2026-01-05 08:00", tz="UTC"), 60.0, 50.0, 10, 9, 0, 3.0)],
        columns=list(ingest.TABLES["production"].columns),
    )
    with db_engine.begin() as conn:
        ingest.upsert(conn, "production", row)
    without = _small()
    without["plants"][0]["lines"][0]["machines"].pop(1)
    dry = apply.apply(db_engine, model.parse(without), dry_run=True)
    assert dry.remove == [("machine", ("M2",))] and dry.with_history == [("machine", ("M2",))]
    with pytest.raises(apply.HistoryError, match="machine M2"):
        apply.apply(db_engine, model.parse(without))
    assert _count(db_engine, "machine") == 2 and _count(db_engine, "production") == 1
    apply.apply(db_engine, model.parse(without), delete_history=True)
    assert _count(db_engine, "machine") == 1 and _count(db_engine, "production") == 0


def test_machine_without_history_is_removed(db_engine):
    apply.apply(db_engine, model.parse(_small()))
    without = _small()
    without["plants"][0]["lines"][0]["machines"].pop(0)  # M1 and its sensor
    result = apply.apply(db_engine, model.parse(without))
    assert sorted(result.remove) == [("machine", ("M1",)), ("sensor", (1,))]
    assert _count(db_engine, "machine") == 1


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            lambda d: d["plants"][1]["shifts"][0].update(starts="25:00"),
            "plants[1].shifts[0].starts: '25:00' is not a time of day",
        ),
        (
            lambda d: d["plants"][0].update(timezone="Europe/Stutgart"),
            "plants[0].timezone: 'Europe/Stutgart' is not an IANA time zone",
        ),
        (
            lambda d: d["plants"][0]["stock"][0].update(material="COPPER"),
            "plants[0].stock[0].material: 'COPPER' is not in materials",
        ),
        (
            lambda d: d["plants"][0]["lines"][0]["machines"][0].pop("ideal_cycle_s"),
            "plants[0].lines[0].machines[0].ideal_cycle_s: is missing",
        ),
        (
            lambda d: d["plants"][0]["lines"][0]["machines"][1].update(id="M1"),
            "plants[0].lines[0].machines[1].id: 'M1' is already used at plants[0].lines[0].machines[0].id",
        ),
        (
            lambda d: d["plants"][0]["lines"][0]["machines"][0].update(ideal_cycle_s=-1),
            "plants[0].lines[0].machines[0].ideal_cycle_s: Input should be greater than 0",
        ),
        (
            lambda d: d["downtime_reasons"][0].update(category="coffee"),
            "downtime_reasons[0].category: Input should be 'breakdown'",
        ),
        (
            lambda d: d["plants"][0]["shifts"][0]["breaks"][0].update(starts="15:00"),
            "plants[0].shifts[0].breaks[0]: '15:00' is not within the shift",
        ),
        (lambda d: d["plants"][0].update(colour="red"), "plants[0].colour: is not a field this file knows"),
        (
            lambda d: d["plants"][1]["shifts"][0].update(days=["mon", "funday"]),
            "plants[1].shifts[0].days[1]: Input should be 'mon'",
        ),
    ],
)
def test_mistakes_are_named_with_their_place(edit, problem, db_engine):
    data = copy.deepcopy(_small())
    edit(data)
    with pytest.raises(model.ModelError) as caught:
        model.parse(data)
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems
    assert _count(db_engine, "plant") == 0


def _cli(*args: str, url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dashboard.plantmodel", *args, "--database-url", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_dry_run_then_apply_then_bad_file(db_engine, tmp_path):
    url = db_engine.url.render_as_string(hide_password=False)
    dry = _cli("apply", str(topology.EXAMPLE), "--dry-run", url=url)
    assert dry.returncode == 0, dry.stderr
    assert "add    machine DET-L1-M1" in dry.stdout and "dry run: nothing was written" in dry.stdout
    assert _count(db_engine, "machine") == 0
    done = _cli("apply", str(topology.EXAMPLE), url=url)
    assert done.returncode == 0 and done.stdout.strip().endswith("applied")
    again = _cli("apply", str(topology.EXAMPLE), url=url)
    assert "0 to add, 0 to change" in again.stdout and "nothing to do" in again.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(topology.EXAMPLE.read_text().replace('starts: "14:00"', 'starts: "25:00"', 1))
    refused = _cli("apply", str(bad), url=url)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "plants[0].shifts[1].starts: '25:00' is not a time of day" in refused.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("plants:\n  - id: [unclosed\n")
    out = _cli("apply", str(broken), url=url)
    assert out.returncode == 2 and "line 3, column 1: not valid YAML" in out.stderr


def test_demo_applies_the_example_as_plant_writer(db_engine, caplog):
    from dashboard import db

    writer = db.writer(db_engine)
    with caplog.at_level("INFO"):
        topology.apply_demo(writer, simulator.topology(42, 3, 40))
    assert "applied " + str(topology.EXAMPLE) in caplog.text
    assert _count(db_engine, "machine") == 40
    caplog.clear()
    topology.apply_demo(writer, simulator.topology(42, 3, 40))  # a restart: nothing to do, nothing logged
    assert "applied" not in caplog.text
    writer.dispose()
