"""`python -m dashboard.alerts`: list, add and remove rules and routes, install the defaults, run one evaluation."""

from __future__ import annotations

import argparse
import logging
import sys

import sqlalchemy as sa
from flask import Flask

from dashboard import config, data, db, migrate
from dashboard.alerts import defaults, routes, rules, runner


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dashboard.alerts", description=__doc__)
    p.add_argument("--database-url", help="defaults to $DATABASE_URL, or the embedded demo server")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every rule")
    add = sub.add_parser("add", help="add a rule (or replace the one of the same name)")
    add.add_argument("--name", required=True)
    add.add_argument("--kind", required=True, choices=list(rules.KINDS))
    add.add_argument("--subject-type", required=True, choices=["plant", "line", "machine", "sensor", "material"])
    add.add_argument("--subject", help="its id; leave out for every one of that type")
    add.add_argument("--plant", help="only this plant")
    add.add_argument("--threshold", type=float, help="ratio (0.6), seconds, or a multiple of the stock limit")
    add.add_argument("--window", type=int, default=3600, help="seconds the OEE kinds look back (default 3600)")
    add.add_argument("--for", dest="for_s", type=int, default=0, help="seconds breaching before it fires")
    add.add_argument("--clear", type=int, default=0, help="seconds within limits before it resolves")
    add.add_argument("--band", type=float, default=0.0, help="relative band to pass before clearing (0.05 = 5 %%)")
    add.add_argument("--severity", default="warning", choices=list(rules.SEVERITIES))
    add.add_argument("--manual-resolve", action="store_true", help="people may resolve it by hand")
    rm = sub.add_parser("remove", help="remove a rule and its alerts")
    rm.add_argument("rule_id", type=int)
    sub.add_parser("defaults", help="add the demo's default rules")
    sub.add_parser("routes", help="where messages go")
    route = sub.add_parser("add-route", help="send alerts of a plant (or all) and severity to an address or webhook")
    route.add_argument("--channel", required=True, choices=["email", "webhook"])
    route.add_argument("--target", required=True, help="an email address or an https:// webhook URL")
    route.add_argument("--plant", help="only this plant's alerts")
    route.add_argument("--min-severity", default="warning", choices=list(rules.SEVERITIES))
    rr = sub.add_parser("remove-route", help="stop sending to a route")
    rr.add_argument("route_id", type=int)
    sub.add_parser("run", help="evaluate once now and send what is due")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        settings = config.load()
        engine = db.create(args.database_url or settings.database_url or db.start_embedded(settings.data_dir))
        db.check(engine)
        migrate.migrate(engine, want_timescale=settings.timescaledb)
        return _run(args, engine, settings)
    except (config.ConfigError, db.DatabaseError, migrate.MigrationError, rules.RuleError, routes.RouteError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except sa.exc.IntegrityError as exc:
        print(f"error: {str(exc.orig).strip().splitlines()[0]}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, engine: sa.Engine, settings: config.Settings) -> int:
    if args.command == "list":
        for r in rules.load(engine, enabled_only=False):
            what = f"{r.subject_type} {r.subject_id or '(every)'}" + (f" at {r.plant_id}" if r.plant_id else "")
            print(f"{r.rule_id:>4}  {r.severity:<8} {r.kind:<13} {what:<28} threshold {r.limit:g}"
                  f"  for {r.for_s}s clear {r.clear_s}s  {r.name}")
    elif args.command == "add":
        rule = rules.Rule(0, args.name, args.kind, args.subject_type, args.subject, args.plant, args.threshold,
                          args.window, args.for_s, args.clear, args.band, args.severity, args.manual_resolve)
        print(f"rule {rules.add(engine, rule)}: {args.name}")
    elif args.command == "remove":
        if not rules.remove(engine, args.rule_id):
            print(f"error: there is no rule {args.rule_id}", file=sys.stderr)
            return 1
        print(f"removed rule {args.rule_id}")
    elif args.command == "defaults":
        print(f"{defaults.install(engine)} default rules installed")
    elif args.command == "routes":
        for r in routes.load(engine):
            print(f"{r.route_id:>4}  {r.channel:<8} {r.plant_id or '(every plant)':<14} {r.min_severity:<8} {r.target}")
    elif args.command == "add-route":
        print(f"route {routes.add(engine, args.channel, args.target, args.plant, args.min_severity)}")
    elif args.command == "remove-route":
        if not routes.remove(engine, args.route_id):
            print(f"error: there is no route {args.route_id}", file=sys.stderr)
            return 1
        print(f"removed route {args.route_id}")
    else:  # run
        data.init_app(Flask(__name__), db.reader(engine, settings.reader_database_url), settings)
        s = runner.once(engine, settings)
        if not s.ran:
            print(f"this period (slot {s.slot}) was already evaluated by another process")
        else:
            print(f"{s.rules} rule(s) evaluated in {s.took_ms:.0f} ms: {s.changed} change(s), {s.events} event(s),"
                  f" {s.queued} message(s) queued")
    return 0


if __name__ == "__main__":
    sys.exit(main())
