"""Describe plants in a file and apply it: `python -m dashboard.plantmodel apply FILE [--dry-run]`."""

from __future__ import annotations

import argparse
import sys

import yaml

from dashboard import config, db
from dashboard.sources import apply, model, topology


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Apply a plant model file (plants, lines, machines, sensors, materials).")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("apply", help="show what changes, then apply it in one transaction")
    a.add_argument("file")
    a.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    a.add_argument(
        "--delete-history",
        action="store_true",
        help="rows the file leaves out are deleted even when they have history (production, telemetry, stock)",
    )
    a.add_argument("--database-url", help="defaults to $DATABASE_URL, or the embedded demo server")
    d = sub.add_parser("demo", help="print the demo simulator's plants as a plant model file")
    d.add_argument("--seed", type=int, default=42)
    d.add_argument("--plants", type=int, default=3)
    d.add_argument("--machines", type=int, default=40)
    args = p.parse_args(argv)
    try:
        if args.command == "demo":
            topo = topology.simulator.topology(args.seed, args.plants, args.machines)
            print(_HEADER + _dump(topology.as_dict(topo)), end="")
            return 0
        plant_model = model.load(args.file)
        settings = config.load()
        engine = db.create(args.database_url or settings.database_url or db.start_embedded(settings.data_dir))
        db.check(engine)
        plan = apply.apply(engine, plant_model, dry_run=args.dry_run, delete_history=args.delete_history)
    except model.ModelError as exc:
        print(f"error: {args.file} has {len(exc.problems)} mistake(s); nothing was written:", file=sys.stderr)
        for line in exc.problems:
            print(f"  {line}", file=sys.stderr)
        return 2
    except (apply.HistoryError, config.ConfigError, db.DatabaseError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in plan.lines():
        print(line)
    print("dry run: nothing was written" if args.dry_run else ("nothing to do" if plan.empty else "applied"))
    return 0


class _Dumper(yaml.SafeDumper):
    """Short lists and leaf mappings on one line; times of day always quoted (YAML 1.1 reads 06:00 as 360)."""


def _list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flow = all(not isinstance(v, (dict, list)) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _dict(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    flow = all(not isinstance(v, (dict, list)) for v in data.values()) and len(data) <= 6
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=flow)


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = '"' if ":" in data or data.isdigit() else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(list, _list)
_Dumper.add_representer(dict, _dict)
_Dumper.add_representer(str, _str)


def _dump(data: dict) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


_HEADER = """\
# Plant model: plants (time zone, shifts, breaks, lines, machines, sensors, stock policies), downtime reasons
# and materials. Apply with: python -m dashboard.plantmodel apply examples/plant.yaml [--dry-run]
# Times of day are plant-local and quoted ("06:00"); days are mon..sun; ideal_cycle_s is seconds per unit.
# sap_plant and sap_material map SAP MB51 exports onto these plants and materials.
"""

if __name__ == "__main__":
    sys.exit(main())
