"""People, their plants, wall screen tokens and API tokens; `python -m dashboard.accounts --help` manages them."""

from __future__ import annotations

import argparse
import getpass
import hashlib
import os
import re
import secrets
import sys

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from dashboard import cli, config, db
from dashboard.access import Principal

# Checked when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password")
WALL_VIEWS = ("oee", "inventory")
USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")  # as app_user's check constraint
MIN_PASSWORD = 10
MIN_STRENGTH = 2  # zxcvbn's score 0-4: below 2 is a common password, a keyboard walk or a near variant of one


class AccountError(ValueError):
    """A request the accounts cannot take; the message says why in words."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(username: str, password: str) -> None:
    """Refuse a password that is short, common or made of the user's name, saying why."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    verdict = zxcvbn(password[:100], user_inputs=[username])
    if verdict["score"] < MIN_STRENGTH:
        why = verdict["feedback"]["warning"] or "it is too easy to guess"
        raise AccountError(f"the password is too easy to guess: {why.rstrip('.')}")


def _known_plants(conn: sa.Connection, plants: list[str]) -> None:
    known = set(conn.execute(sa.text("select plant_id from plant")).scalars())
    if unknown := [p for p in plants if p not in known]:
        choices = ", ".join(sorted(known)) or "none yet"
        raise AccountError(f"unknown plant {unknown[0]!r}; the plants are: {choices}")


def add_user(engine: Engine, username: str, password: str | None, plants: list[str], all_plants: bool = False) -> None:
    """Create or replace a user with exactly these plants; no password: signs in through the proxy header only.
    Replacing a user ends the sessions it had (its session generation moves on)."""
    if not USERNAME.match(username):
        raise AccountError(f"{username[:64]!r} is not a user name: use 1-64 letters, digits, '.', '_', '@' or '-'")
    if password is not None:
        check_password(username, password)
    hashed = generate_password_hash(password) if password else None
    with engine.begin() as conn:
        _known_plants(conn, plants)
        conn.execute(
            sa.text(
                "insert into app_user (username, password_hash, all_plants) values (:u, :h, :a)"
                " on conflict (username) do update set password_hash = :h, all_plants = :a, disabled = false,"
                " session_gen = app_user.session_gen + 1"
            ),
            {"u": username, "h": hashed, "a": all_plants},
        )
        conn.execute(sa.text("delete from user_plant where username = :u"), {"u": username})
        for p in plants:
            conn.execute(sa.text("insert into user_plant values (:u, :p)"), {"u": username, "p": p})


def disable_user(engine: Engine, username: str) -> bool:
    with engine.begin() as conn:
        return (
            conn.execute(
                sa.text("update app_user set disabled = true, session_gen = session_gen + 1 where username = :u"),
                {"u": username},
            ).rowcount
            > 0
        )


def end_sessions(engine: Engine, username: str) -> None:
    """Every session of this user ends (sign out ends them all: a copied cookie is worth nothing after it)."""
    with engine.begin() as conn:
        conn.execute(sa.text("update app_user set session_gen = session_gen + 1 where username = :u"), {"u": username})


def user(engine: Engine, username: str) -> Principal | None:
    """The principal of an enabled user, with the plants granted to them; None for anyone else."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                """select u.all_plants, array_remove(array_agg(p.plant_id), null), u.session_gen
                   from app_user u left join user_plant p using (username)
                   where u.username = :u and not u.disabled group by u.all_plants, u.session_gen"""
            ),
            {"u": username},
        ).first()
    if row is None:
        return None
    return Principal(username, None if row[0] else frozenset(row[1]), generation=row[2])


def verify(engine: Engine, username: str, password: str) -> Principal | None:
    """The user's principal when the password is right, else None (in about the same time either way)."""
    with engine.connect() as conn:
        hashed = conn.execute(
            sa.text("select password_hash from app_user where username = :u and not disabled"), {"u": username}
        ).scalar()
    if not check_password_hash(hashed or _DUMMY_HASH, password) or not hashed:
        return None
    return user(engine, username)


def add_token(engine: Engine, name: str, plants: list[str], views: list[str]) -> str:
    """A new wall token for these plants and slides; the token is returned once and only its hash is kept."""
    if bad := [v for v in views if v not in WALL_VIEWS]:
        raise AccountError(f"unknown wall view {bad[0]!r}; choose from {', '.join(WALL_VIEWS)}")
    if not plants:
        raise AccountError("a wall token needs at least one plant (--plants)")
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        _known_plants(conn, plants)
        conn.execute(
            sa.text("insert into wall_token (name, token_hash, plants, views) values (:n, :h, :p, :v)"),
            {"n": name, "h": token_hash(token), "p": plants, "v": views},
        )
    return token


def revoke_token(engine: Engine, name: str) -> int:
    with engine.begin() as conn:
        return conn.execute(
            sa.text("update wall_token set revoked_at = now() where name = :n and revoked_at is null"), {"n": name}
        ).rowcount


def wall(engine: Engine, hashed: str) -> Principal | None:
    """The principal of a wall token that has not been revoked."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("select name, plants, views from wall_token where token_hash = :h and revoked_at is null"),
            {"h": hashed},
        ).first()
    if row is None:
        return None
    return Principal(f"wall:{row[0]}", frozenset(row[1]), frozenset(row[2]), wall=True)


def add_api_token(engine: Engine, name: str, plants: list[str], all_plants: bool = False) -> str:
    """A new REST API token for these plants (or all); returned once, only its hash is kept."""
    if not USERNAME.match(name):
        raise AccountError(f"{name[:64]!r} is not a token name: use 1-64 letters, digits, '.', '_', '@' or '-'")
    if not plants and not all_plants:
        raise AccountError("say which plants the token may read: --plants ID,ID or --all-plants")
    token = "pd_" + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        _known_plants(conn, plants)
        taken = conn.execute(sa.text("select 1 from api_token where name = :n"), {"n": name}).first()
        if taken:
            raise AccountError(f"an API token named {name!r} exists; revoke it or choose another name")
        conn.execute(
            sa.text("insert into api_token (name, token_hash, plants) values (:n, :h, :p)"),
            {"n": name, "h": token_hash(token), "p": None if all_plants else plants},
        )
    return token


def revoke_api_token(engine: Engine, name: str) -> int:
    """Revoked at once: the API looks every request's token up (no memo), so the next request gets a 401."""
    with engine.begin() as conn:
        return conn.execute(
            sa.text("update api_token set revoked_at = now() where name = :n and revoked_at is null"), {"n": name}
        ).rowcount


def api_client(engine: Engine, hashed: str) -> Principal | None:
    """The principal of an API token that has not been revoked."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("select name, plants from api_token where token_hash = :h and revoked_at is null"), {"h": hashed}
        ).first()
    if row is None:
        return None
    return Principal(f"api:{row[0]}", None if row[1] is None else frozenset(row[1]))


def main(argv: list[str] | None = None) -> None:
    p = cli.Parser(prog="python -m dashboard.accounts", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("add-user", help="create or replace a user; the password is read from PASSWORD or asked")
    a.add_argument("username")
    a.add_argument("--plants", default="", help="comma-separated plant ids the user may see")
    a.add_argument("--all-plants", action="store_true")
    a.add_argument("--no-password", action="store_true", help="signs in through the proxy header only")
    d = sub.add_parser("disable-user")
    d.add_argument("username")
    t = sub.add_parser("add-token", help="a wall screen token; prints the URL to open once on the screen")
    t.add_argument("name")
    t.add_argument("--plants", required=True)
    t.add_argument("--views", default=",".join(WALL_VIEWS))
    r = sub.add_parser("revoke-token")
    r.add_argument("name")
    at = sub.add_parser("add-api-token", help="a REST API token; printed once, use it as 'Authorization: Bearer ...'")
    at.add_argument("name")
    at.add_argument("--plants", default="", help="comma-separated plant ids the token may read")
    at.add_argument("--all-plants", action="store_true")
    ar = sub.add_parser("revoke-api-token", help="the token gets 401 from its next request on")
    ar.add_argument("name")
    args = p.parse_args(argv)
    sys.exit(cli.run(lambda: _run(args), AccountError))


def _run(args: argparse.Namespace) -> int:
    engine = db.create(cli.database_url(config.load()))
    db.check(engine)
    print(_do(engine, args))
    return 0


def _do(engine: Engine, args: argparse.Namespace) -> str:
    split = lambda v: [x.strip() for x in v.split(",") if x.strip()]  # noqa: E731
    if args.cmd == "add-user":
        if args.no_password:
            password = None
        elif not (password := os.environ.get("PASSWORD", "")):
            if not sys.stdin.isatty():
                raise AccountError("set PASSWORD in the environment, or run this in a terminal to be asked for it")
            password = getpass.getpass("Password: ")
        if not args.all_plants and not split(args.plants):
            raise AccountError("say which plants the user may see: --plants ID,ID or --all-plants")
        add_user(engine, args.username, password, split(args.plants), args.all_plants)
        return f"user {args.username} saved"
    if args.cmd == "disable-user":
        if not disable_user(engine, args.username):
            raise AccountError(f"there is no user {args.username!r}")
        return f"user {args.username} disabled; their sessions have ended"
    if args.cmd == "add-token":
        token = add_token(engine, args.name, split(args.plants), split(args.views))
        return f"open once on the screen: /wall?token={token}"
    if args.cmd == "add-api-token":
        token = add_api_token(engine, args.name, split(args.plants), args.all_plants)
        return f"API token {args.name} (shown once): {token}"
    if args.cmd == "revoke-api-token":
        if not revoke_api_token(engine, args.name):
            raise AccountError(f"there is no active API token named {args.name!r}")
        return f"API token {args.name} revoked"
    if not (n := revoke_token(engine, args.name)):
        raise AccountError(f"there is no active token named {args.name!r}")
    return f"{n} token(s) revoked"


if __name__ == "__main__":
    main()
