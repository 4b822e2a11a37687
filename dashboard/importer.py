"""Import history files: `python -m dashboard.importer FILE... [--kind auto|...|mb51] [--dry-run]`."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys

from dashboard import config, db
from dashboard.sources import importer
from dashboard.sources.kinds import KINDS


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="Import production, downtime, telemetry, inventory or SAP MB51 history from CSV, Excel or "
        "Parquet. A file with any bad row is refused whole and its bad rows are listed."
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--kind", default="auto", choices=["auto", *KINDS, "mb51"], help="default: from the header row")
    p.add_argument("--dry-run", action="store_true", help="read, check and count everything; write nothing")
    p.add_argument("--user", default=None, help="who imports, for the import record (default: the login name)")
    p.add_argument("--database-url", help="defaults to $DATABASE_URL, or the embedded demo server")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        settings = config.load()
        engine = db.create(args.database_url or settings.database_url or db.start_embedded(settings.data_dir))
        db.check(engine)
    except (config.ConfigError, db.DatabaseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    user = args.user or getpass.getuser()
    failed = 0
    for name in args.files:
        result = importer.import_file(
            engine,
            name,
            args.kind,
            dry_run=args.dry_run,
            user=user,
            progress=not args.no_progress and sys.stderr.isatty(),
        )
        print(result.summary())
        for bad in result.bad:
            print(f"  {result.file} row {bad.row}, column {bad.column}: {bad.reason}")
        if result.refused > len(result.bad):
            print(f"  ... and {result.refused - len(result.bad)} more bad row(s)")
        failed += result.status in ("refused", "failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
