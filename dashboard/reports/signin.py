"""How a scheduled report's browser is let in when sign-in is on: as the user the report runs as, for a few minutes."""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.engine import Engine

from dashboard.config import Settings

COOKIE = "pd_session"  # as dashboard.auth names it
LIFETIME_S = 600


class NoUser(ValueError):
    """Sign-in is on and the report names no enabled user to print it as."""


def credentials(engine: Engine, settings: Settings, run_as: str | None) -> tuple[list[dict], dict[str, str]]:
    """(cookies, headers) for the renderer: none with AUTH off; a short session of ``run_as`` with AUTH=password
    (signed with SECRET_KEY, in that user's current session generation); the proxy's header with AUTH=header."""
    if settings.auth == "off":
        return [], {}
    if not run_as:
        raise NoUser("sign-in is on: say which user the report prints as (reports add ... --as USER)")
    if settings.auth == "header":
        return [], {settings.auth_header: run_as}
    with engine.connect() as conn:
        gen = conn.execute(
            sa.text("select session_gen from app_user where username = :u and not disabled"), {"u": run_as}
        ).scalar()
    if gen is None:
        raise NoUser(f"the user {run_as!r} the report prints as is disabled or gone")
    app = Flask("report-signin")
    app.secret_key = settings.secret_key
    value = SecureCookieSessionInterface().get_signing_serializer(app).dumps(
        {"u": run_as, "g": gen, "exp": time.time() + LIFETIME_S, "_permanent": True}
    )
    return [{"name": COOKIE, "value": value, "url": settings.base_url}], {}
