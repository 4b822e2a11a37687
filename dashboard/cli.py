"""What every command line tool shares: errors in one line with a non-zero exit, and which database it uses."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import psycopg2
import sqlalchemy as sa

from dashboard import config, db


class Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (usage is behind --help), exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"error: {message} (see --help)\n")


def database_url(settings: config.Settings, given: str | None = None) -> str:
    """``given`` (--database-url), else DATABASE_URL, else the embedded demo server; says which on one line."""
    url = given or db.url_for(settings)
    print(db.where(url), flush=True)
    return url


def first_line(exc: BaseException) -> str:
    """The reason a database error gives, without SQLAlchemy's statement dump and links."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__


def run(main: Callable[[], int], *expected: type[BaseException]) -> int:
    """Run a tool's body: an error it can foresee (``expected``, settings, database) becomes one line and exit
    status 2; a database that fails half way, 1; Ctrl-C, 130. Never a traceback for any of them."""
    try:
        return main()
    except (config.ConfigError, db.DatabaseError, *expected) as exc:
        return fail(str(exc))
    except sa.exc.OperationalError as exc:
        return fail(f"the database stopped answering: {first_line(exc)}", 1)
    except (sa.exc.DBAPIError, psycopg2.Error) as exc:
        return fail(f"the database refused: {first_line(exc)}", 1)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130


def fail(message: str, status: int = 2) -> int:
    """Print ``error: message`` on stderr as one line; return the exit status to use."""
    message = " ".join(message.split())
    print(f"error: {message}" if message.endswith(".") else f"error: {message}.", file=sys.stderr)
    return status
