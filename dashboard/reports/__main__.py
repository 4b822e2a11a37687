"""`python -m dashboard.reports add|list|remove|run`: manage scheduled PDF reports and make one on demand."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from dashboard import config, db
from dashboard.notify import mail
from dashboard.reports import render, runner, schedule, signin, store
from dashboard.reports.store import ReportError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dashboard.reports", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("add", help="save a view with a schedule and recipients")
    a.add_argument("name")
    a.add_argument("--page", default="/", help=f"one of {', '.join(store.PAGES)}")
    a.add_argument("--view", default="", help="the page's URL fragment, e.g. '#range=7d&plant=BER&group=line'")
    a.add_argument("--plant", required=True, help="the plant whose clock the schedule follows")
    a.add_argument("--every", default="daily", help=f"daily, or a weekday: {', '.join(schedule.WEEKDAYS)}")
    a.add_argument("--at", required=True, help="plant-local time of day, HH:MM")
    a.add_argument("--to", required=True, help="comma-separated e-mail addresses")
    a.add_argument("--as", dest="run_as", help="with sign-in on: the user whose view (and plants) it prints")
    sub.add_parser("list", help="every report with its schedule and when it was last sent")
    r = sub.add_parser("remove")
    r.add_argument("name")
    n = sub.add_parser("run", help="make one now from the running app (ALERT_BASE_URL) and send it")
    n.add_argument("name")
    n.add_argument("--now", action="store_true", required=True, help="now, not at its scheduled time")
    n.add_argument("--out", type=Path, help="also write the PDF to this file")
    n.add_argument("--no-mail", action="store_true", help="only write the PDF (with --out)")
    return p


def _run(args: argparse.Namespace) -> str:
    settings = config.load()
    engine = db.create(db.url_for(settings))
    db.check(engine)
    if args.cmd == "add":
        to = [x.strip() for x in args.to.split(",") if x.strip()]
        r = store.add(engine, args.name, args.page, args.view, args.plant, args.every.lower(), args.at, to, args.run_as)
        return f"report {r.name}: {r.page}{r.fragment}, {schedule.describe(r.every, r.weekday, r.at, r.tz)}, to {args.to}"
    if args.cmd == "list":
        rows = [
            f"{r.name}\t{r.page}{r.fragment}\t{schedule.describe(r.every, r.weekday, r.at, r.tz)}\t"
            f"{', '.join(r.recipients)}\tlast sent {store.last_sent(engine, r.name) or 'never'}"
            for r in store.all_reports(engine)
        ]
        return "\n".join(rows) or "no reports yet"
    if args.cmd == "remove":
        if not store.remove(engine, args.name):
            raise ReportError(f"there is no report named {args.name!r}")
        return f"report {args.name} removed"
    report = store.get(engine, args.name)
    if report is None:
        raise ReportError(f"there is no report named {args.name!r}")
    if args.no_mail and not args.out:
        raise ReportError("--no-mail needs --out FILE, or nothing would come of it")
    at = datetime.now(UTC)
    if args.no_mail:
        document = runner.pdf(engine, settings, report, at)
    elif (document := runner.deliver(engine, settings, report, at, at)) is None:
        raise ReportError("another process is sending this report right now")
    if args.out:
        args.out.write_bytes(document)
    sent = "" if args.no_mail else f"sent to {', '.join(report.recipients)}"
    return f"report {report.name}: " + "; ".join(x for x in (sent, f"written to {args.out}" if args.out else "") if x)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        print(_run(args))
    except (ReportError, signin.NoUser, render.RenderError, mail.MailError) as exc:
        sys.exit(f"error: {str(exc).rstrip('.')}.")
    except (config.ConfigError, db.DatabaseError) as exc:
        sys.exit(f"error: {exc}")
    except db.UNAVAILABLE as exc:
        sys.exit(f"error: the database stopped answering: {str(getattr(exc, 'orig', exc)).strip().splitlines()[0]}")


if __name__ == "__main__":
    main()
