"""Sign-in, sessions and wall tokens in front of every page and callback; nothing changes when AUTH is off."""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlencode

from cachelib import SimpleCache
from flask import Flask, Response, jsonify, redirect, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_caching import Cache
from markupsafe import escape
from sqlalchemy.engine import Engine

from dashboard import access, accounts, static
from dashboard.access import Principal
from dashboard.config import Settings

log = logging.getLogger(__name__)

OPEN_PATHS = {"/login", "/logout", "/healthz", "/_favicon.ico", "/favicon.ico"}
OPEN_PREFIXES = ("/assets/", "/_dash-component-suites/", "/vendor/")
WALL_PATHS = {"/wall", "/_dash-layout", "/_dash-dependencies", "/_dash-update-component", "/_reload-hash"}
WALL_OUTPUTS = re.compile(r"^(wall-|nav-|flt-|url$|view$|tick$|_pages_)")  # the wall page and the shell around it
THROTTLE_WINDOW_S = 900
MEMO_S = 2  # a revoked token or a changed grant takes effect within this long (seconds)

# Failed sign-ins, per user and per address: shared through Redis when it is configured.
throttle = Cache()


class _SecureWhenHttps(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (directly or as the proxy says)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)


class Gate:
    def __init__(self, owner: Engine, settings: Settings) -> None:
        self.owner, self.settings = owner, settings
        # Principals looked up in the last MEMO_S seconds, so a wall of screens does not ask the database per call.
        self.memo = SimpleCache(threshold=10_000, default_timeout=MEMO_S)
        self.local_throttle = SimpleCache(threshold=10_000, default_timeout=THROTTLE_WINDOW_S)

    def principal(self) -> Principal | None:
        if hashed := session.get("w"):
            return self._looked_up(f"w:{hashed}", lambda: accounts.wall(self.owner, hashed))
        if self.settings.auth == "header":
            name = request.headers.get(self.settings.auth_header, "")[:64]
        else:
            name = session.get("u") if session.get("exp", 0) > time.time() else None
        return self._looked_up(f"u:{name}", lambda: accounts.user(self.owner, name)) if name else None

    def _looked_up(self, key: str, load: Callable[[], Principal | None]) -> Principal | None:
        hit = self.memo.get(key)
        if hit is None:
            hit = (load(),)  # wrapped, so that "no such user" is remembered too
            self.memo.set(key, hit)
        return hit[0]

    def before_request(self) -> Response | tuple | None:
        path = request.path
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return None
        if (token := request.args.get("token")) and request.method == "GET":
            return self._take_token(token)
        principal = self.principal()
        if principal is None:
            return self._refuse(path, "Please sign in.")
        if principal.wall and not self._wall_may(path):
            return jsonify(error="a wall screen's token opens the wall only"), 403
        access.set_current(principal)
        return None

    def _take_token(self, token: str) -> Response:
        """A token comes once in the URL: kept in the session cookie, and taken out of the address bar."""
        hashed = accounts.token_hash(token[:200])
        if accounts.wall(self.owner, hashed) is None:
            return redirect("/login?reason=token")
        session.clear()
        session.permanent = True
        session["w"] = hashed
        rest = {k: v for k, v in request.args.items() if k != "token"}
        return redirect(request.path + ("?" + urlencode(rest) if rest else ""))

    def _wall_may(self, path: str) -> bool:
        if path not in WALL_PATHS:
            return False
        if path != "/_dash-update-component":
            return True
        output = str((request.get_json(silent=True) or {}).get("output", ""))
        ids = [part.rsplit(".", 1)[0] for part in output.strip(".").split("...") if part]
        return bool(ids) and all(WALL_OUTPUTS.match(i) for i in ids)

    def _refuse(self, path: str, why: str) -> Response | tuple:
        reason = "token" if session.get("w") else "expired" if session.get("u") else ""
        if path.startswith("/_"):  # a callback: assets/auth.js sends the page to the sign-in page
            return jsonify(error=why, reason=reason), 401
        return redirect("/login?" + urlencode({"next": path, **({"reason": reason} if reason else {})}))

    # -- sign-in
    def _throttle_keys(self, username: str) -> list[tuple[str, int]]:
        window = int(time.time() // THROTTLE_WINDOW_S)
        limit = self.settings.login_attempts
        return [
            (f"login:{window}:u:{username.lower()}", limit),
            (f"login:{window}:ip:{request.remote_addr}", 4 * limit),
        ]

    def _count(self, key: str, add: int = 0) -> int:
        try:
            if add:
                value = throttle.cache.inc(key, add)
                if client := getattr(throttle.cache, "_write_client", None):
                    client.expire(throttle.cache.key_prefix + key, THROTTLE_WINDOW_S)
                return int(value or 0)
            return int(throttle.cache.get(key) or 0)
        except Exception as exc:  # noqa: BLE001 - a cache that is away must not open the door: count locally
            log.warning("sign-in throttle falls back to this process: %s", exc)
            value = int(self.local_throttle.get(key) or 0) + add
            self.local_throttle.set(key, value)
            return value

    def login(self) -> Response | tuple:
        nxt = request.values.get("next", "/")
        nxt = nxt if nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt else "/"
        if self.settings.auth == "header":  # the proxy signs people in; a wall token is the only other way in
            return _page(
                nxt,
                "Sign-in is handled by the single sign-on in front of this dashboard, and it did not "
                "name a user this dashboard knows. Ask IT for access.",
                403,
                form=False,
            )
        if request.method == "GET":
            reason = {
                "token": "This screen's access was revoked or is not valid. Ask IT for a new wall link.",
                "expired": "Your session has ended. Please sign in again.",
            }.get(request.args.get("reason", ""), "")
            return _page(nxt, reason, 200)
        # The form carries a token from this browser's session, so another site cannot sign it in as someone else.
        if not hmac.compare_digest(request.form.get("csrf", ""), session.get("csrf", "-")):
            return _page(nxt, "The sign-in form was out of date. Please try again.", 400)
        username = request.form.get("username", "")[:64]
        password = request.form.get("password", "")[:1024]
        keys = self._throttle_keys(username)
        if any(self._count(k) >= limit for k, limit in keys):
            return _page(nxt, "Too many failed sign-ins. Try again in 15 minutes.", 429)
        principal = accounts.verify(self.owner, username, password) if username and password else None
        if principal is None:
            for k, _ in keys:
                self._count(k, add=1)
            log.warning("failed sign-in for %r from %s", username, request.remote_addr)
            return _page(nxt, "Wrong user name or password.", 401)
        session.clear()
        session.permanent = True
        session["u"], session["exp"] = principal.name, time.time() + self.settings.session_hours * 3600
        return redirect(nxt)

    def logout(self) -> Response:
        session.clear()
        return redirect("/login")


_HEAD = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · Plant dashboards</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="{static.BOOTSTRAP_CSS}">
</head><body class="bg-light"><main class="container" style="max-width: 24rem; margin-top: 12vh">
<h1 class="h4 mb-3">Plant dashboards</h1>"""


def _csrf() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def _page(nxt: str, message: str, status: int, form: bool = True) -> tuple[str, int]:
    alert = f'<div class="alert alert-warning py-2" role="alert">{escape(message)}</div>' if message else ""
    if not form:
        return (_HEAD + alert + "</main></body></html>", status)
    return (
        f"""{_HEAD}{alert}
<form method="post" action="/login"><input type="hidden" name="next" value="{escape(nxt)}">
<input type="hidden" name="csrf" value="{escape(_csrf())}">
<div class="mb-2"><label class="form-label" for="username">User name</label>
<input class="form-control" id="username" name="username" autocomplete="username" required autofocus></div>
<div class="mb-3"><label class="form-label" for="password">Password</label>
<input class="form-control" id="password" name="password" type="password" autocomplete="current-password" required></div>
<button class="btn btn-primary w-100" type="submit">Sign in</button></form></main></body></html>""",
        status,
    )


def init_app(server: Flask, owner: Engine, settings: Settings) -> None:
    """Put the gate in front of everything when AUTH is on; ``owner`` reads users and tokens (pages cannot)."""
    access.enable(settings.auth != "off")
    if settings.auth == "off":
        return
    server.secret_key = settings.secret_key
    server.config.update(
        SESSION_COOKIE_NAME="pd_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(days=400),  # a person's sign-in ends earlier: see session["exp"]
    )
    server.session_interface = _SecureWhenHttps()
    if settings.redis_url:
        cfg = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": settings.redis_url, "CACHE_KEY_PREFIX": "pd-login:"}
        cfg["CACHE_OPTIONS"] = {"socket_connect_timeout": 0.25, "socket_timeout": 0.5}
    else:
        cfg = {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 10_000}
    throttle.init_app(server, config={**cfg, "CACHE_DEFAULT_TIMEOUT": THROTTLE_WINDOW_S})
    gate = Gate(owner, settings)
    server.before_request(gate.before_request)
    server.add_url_rule("/login", "login", gate.login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", gate.logout, methods=["GET", "POST"])
