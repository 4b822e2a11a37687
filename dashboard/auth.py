"""Sign-in, sessions and wall tokens in front of every page and callback; nothing changes when AUTH is off."""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlencode

from cachelib import SimpleCache
from flask import Flask, Response, jsonify, redirect, request, session
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.engine import Engine

from dashboard import access, accounts, db, safeurl, throttle
from dashboard.access import Principal
from dashboard.config import Settings
from dashboard.login_page import page

log = logging.getLogger(__name__)

OPEN_PATHS = {"/login", "/logout", "/healthz", "/_favicon.ico", "/favicon.ico"}
OPEN_PREFIXES = ("/assets/", "/_dash-component-suites/", "/vendor/", "/api/v1/")  # the API checks its own tokens
WALL_PATHS = {"/wall", "/_dash-layout", "/_dash-dependencies", "/_dash-update-component", "/_reload-hash"}
WALL_OUTPUTS = re.compile(r"^(wall-|nav-|flt-|url$|view$|tick$|_pages_)")  # the wall page and the shell around it
MEMO_S = 2  # a revoked token, a changed grant or a signed-out session takes effect within this long (seconds)
OUTAGE_GRACE_S = 300  # while the database is away, someone seen this recently is still known; others get a 503
DOWN = "The database is not answering, so this dashboard cannot check who is asking. It retries by itself."


class Unavailable(RuntimeError):
    """The database cannot say who is asking, and nobody of that name was seen recently."""


class _SecureWhenHttps(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (directly or as the proxy says)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)


class Gate:
    def __init__(self, owner: Engine, settings: Settings) -> None:
        self.owner, self.settings = owner, settings
        # Principals looked up in the last MEMO_S seconds, so a wall of screens does not ask the database per call.
        self.memo = SimpleCache(threshold=10_000, default_timeout=MEMO_S)
        # The last answer for each, kept through a database outage for OUTAGE_GRACE_S.
        self.known = SimpleCache(threshold=10_000, default_timeout=OUTAGE_GRACE_S)

    def principal(self) -> Principal | None:
        if hashed := session.get("w"):
            return self._looked_up(f"w:{hashed}", lambda: accounts.wall(self.owner, hashed))
        if self.settings.auth == "header":
            name = request.headers.get(self.settings.auth_header, "")
            ok = accounts.USERNAME.match(name)
            return self._looked_up(f"u:{name}", lambda: accounts.user(self.owner, name)) if ok else None
        name = session.get("u") if session.get("exp", 0) > time.time() else None
        if not isinstance(name, str):
            return None
        found = self._looked_up(f"u:{name}", lambda: accounts.user(self.owner, name))
        # A session made before the user signed out, changed password or was disabled has ended.
        return found if found is not None and found.generation == session.get("g") else None

    def _looked_up(self, key: str, load: Callable[[], Principal | None]) -> Principal | None:
        hit = self.memo.get(key)
        if hit is None:
            try:
                hit = (load(),)  # wrapped, so that "no such user" is remembered too
            except db.UNAVAILABLE as exc:
                hit = self.known.get(key)
                if hit is None:
                    raise Unavailable(DOWN) from exc
                log.warning("database away: %s served from memory", key.split(":", 1)[0])
                self.memo.set(key, hit)  # not into `known`: the grace runs from the last real answer
                return hit[0]
            self.memo.set(key, hit)
            self.known.set(key, hit)
        return hit[0]

    def before_request(self) -> Response | tuple | None:
        path = request.path
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return None
        try:
            if path == "/wall" and (token := request.args.get("token")) and request.method == "GET":
                return self._take_token(token)
            principal = self.principal()
        except Unavailable:
            return _unavailable(path)
        if principal is None:
            return self._refuse(path, "Please sign in.")
        if principal.wall and not self._wall_may(path):
            return jsonify(error="a wall screen's token opens the wall only"), 403
        access.set_current(principal)
        return None

    def _take_token(self, token: str) -> Response | tuple:
        """A token comes once in the URL: kept in the session cookie, and taken out of the address bar."""
        if (person := session.get("u")) and self.principal() is not None:
            # Never swap a person's session for a screen's: a link from elsewhere must not sign someone out.
            msg = f"You are signed in as {person}. Open this wall link on the wall screen itself, or sign out first."
            return page("/", msg, 409, form=False)
        hashed = accounts.token_hash(token[:200])
        if self._looked_up(f"w:{hashed}", lambda: accounts.wall(self.owner, hashed)) is None:
            return redirect("/login?reason=token")
        session.clear()
        session.permanent = True
        session["w"] = hashed
        rest = {k: v for k, v in request.args.items() if k != "token"}
        return redirect(safeurl.local_path("/wall" + ("?" + urlencode(rest) if rest else ""), "/wall"))

    def _wall_may(self, path: str) -> bool:
        if path not in WALL_PATHS:
            return False
        if path != "/_dash-update-component":
            return True
        body = request.get_json(silent=True)
        output = str(body.get("output", "")) if isinstance(body, dict) else ""
        ids = [part.rsplit(".", 1)[0] for part in output.strip(".").split("...") if part]
        return bool(ids) and all(WALL_OUTPUTS.match(i) for i in ids)

    def _refuse(self, path: str, why: str) -> Response | tuple:
        reason = "token" if session.get("w") else "expired" if session.get("u") else ""
        if path.startswith("/_"):  # a callback: assets/auth.js sends the page to the sign-in page
            return jsonify(error=why, reason=reason), 401
        nxt = safeurl.local_path(path)
        return redirect("/login?" + urlencode({"next": nxt, **({"reason": reason} if reason else {})}))

    # -- sign-in
    def login(self) -> Response | tuple:
        nxt = safeurl.local_path(request.values.get("next", "/"))
        if self.settings.auth == "header":  # the proxy signs people in; a wall token is the only other way in
            msg = (
                "Sign-in is handled by the single sign-on in front of this dashboard, and it did not "
                "name a user this dashboard knows. Ask IT for access."
            )
            return page(nxt, msg, 403, form=False)
        if request.method == "GET":
            reason = {
                "token": "This screen's access was revoked or is not valid. Ask IT for a new wall link.",
                "expired": "Your session has ended. Please sign in again.",
            }.get(request.args.get("reason", ""), "")
            return page(nxt, reason, 200)
        # The form carries a token from this browser's session, so another site cannot sign it in as someone else.
        # A browser with no session has no token, and then nothing matches.
        expected = session.get("csrf")
        given = request.form.get("csrf", "")
        if not isinstance(expected, str) or not hmac.compare_digest(given.encode(), expected.encode()):
            return page(nxt, "The sign-in form was out of date. Please try again.", 400)
        username = request.form.get("username", "")[:64]
        password = request.form.get("password", "")[:1024]
        try:
            return self._check(username, password, nxt)
        except db.UNAVAILABLE:
            return page(nxt, "Sign-in is not possible while the database is not answering. Try again shortly.", 503)

    def _check(self, username: str, password: str, nxt: str) -> Response | tuple:
        """Count the attempt first (atomically, for every worker), then check the password only within the limit."""
        counters = throttle.keys(username, request.remote_addr)
        counts = throttle.add(self.owner, counters)
        limit = self.settings.login_attempts
        if counts[counters[0]] > limit or counts[counters[1]] > 4 * limit:
            log.warning("sign-in refused for %r from %s: too many attempts", username, request.remote_addr)
            return page(nxt, "Too many failed sign-ins. Try again in 15 minutes.", 429)
        well_formed = bool(accounts.USERNAME.match(username)) and bool(password)
        principal = accounts.verify(self.owner, username, password) if well_formed else None
        if principal is None:
            log.warning("failed sign-in for %r from %s", username, request.remote_addr)
            return page(nxt, "Wrong user name or password.", 401)
        throttle.add(self.owner, counters, -1)  # a right password gives its attempt back
        session.clear()
        session.permanent = True
        session["u"], session["g"] = principal.name, principal.generation
        session["exp"] = time.time() + self.settings.session_hours * 3600
        return redirect(nxt)

    def logout(self) -> Response:
        """Ends every session of this person (a copied cookie stops working too), then clears this one."""
        if isinstance(name := session.get("u"), str):
            try:
                accounts.end_sessions(self.owner, name)
                self.memo.delete(f"u:{name}")
            except db.UNAVAILABLE:
                log.warning("sign out of %r while the database is away: only this browser's cookie is cleared", name)
        session.clear()
        return redirect("/login")


def _unavailable(path: str) -> Response | tuple:
    if path.startswith("/_"):
        return jsonify(error=DOWN), 503
    return page("/", DOWN, 503, form=False)


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
        # The cookie lives as long as a sign-in; a wall screen's is renewed by every refresh it makes.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
    )
    server.session_interface = _SecureWhenHttps()
    gate = Gate(owner, settings)
    server.before_request(gate.before_request)
    server.add_url_rule("/login", "login", gate.login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", gate.logout, methods=["GET", "POST"])
