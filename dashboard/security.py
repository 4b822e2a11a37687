"""Security headers on every response: a Content-Security-Policy Dash runs under, no framing, no sniffing."""

from __future__ import annotations

import logging

from dash import Dash
from dash.exceptions import DependencyException
from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard import db
from dashboard.config import Settings

log = logging.getLogger(__name__)

# Callback bodies are a few kB (the largest, a hostile one, is refused long before this); a route that takes
# uploads sets its own limit on its own requests.
MAX_BODY_BYTES = 2 * 2**20


def policy(app: Dash) -> str:
    """Scripts from this server only, plus Dash's own inline scripts by their hashes; styles may be inline because
    plotly.js and the Dash components set them at run time."""
    hashes = " ".join(app.csp_hashes())
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {hashes}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _envelope_ok(body: object) -> bool:
    """The shape every Dash callback request has; anything else is refused before Dash looks at it."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("output"), str)
        and isinstance(body.get("outputs"), dict | list)
        and isinstance(body.get("inputs"), list)
        and isinstance(body.get("state", []), list)
        and isinstance(body.get("changedPropIds", []), list)
    )


def init_app(app: Dash, settings: Settings) -> None:
    """Headers, limits and error answers; call it after the sign-in gate, whose check must come before any body
    is read."""
    app.server.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    if settings.trusted_proxies:  # the proxy's X-Forwarded-* say whether the visitor came over HTTPS, and from where
        n = settings.trusted_proxies
        app.server.wsgi_app = ProxyFix(app.server.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)

    @app.server.before_request
    def check_envelope() -> tuple | None:
        if request.path.endswith("/_dash-update-component") and not _envelope_ok(request.get_json(silent=True)):
            return jsonify(error="not a Dash callback request"), 400
        return None

    @app.server.errorhandler(Exception)
    def refuse(exc: Exception) -> Response | tuple:
        """A callback request Dash cannot match to its callbacks (an unknown output, inputs of the wrong shape) is
        the sender's mistake: 400 in words, no traceback."""
        if isinstance(exc, HTTPException):
            return exc
        if isinstance(exc, DependencyException) or request.path.startswith("/_dash-component-suites/"):
            log.info("no such script: %s", request.path[:200].encode("unicode_escape").decode())
            return jsonify(error="not found"), 404
        if isinstance(exc, db.UNAVAILABLE):
            log.warning("database away on %s: %s", request.path, type(exc).__name__)
            return jsonify(error="The database is not answering; this retries by itself."), 503
        if request.path.endswith("/_dash-update-component"):
            log.warning("callback request refused: %s: %s", type(exc).__name__, str(exc)[:200])
            return jsonify(error="this request does not match a callback of this app"), 400
        log.error("unhandled error on %s", request.path, exc_info=exc)
        return jsonify(error="internal error"), 500

    csp: list[str] = []  # Dash gathers its inline scripts when it serves its first request: hash them then

    @app.server.after_request
    def headers(response: Response) -> Response:
        if not csp:
            csp.append(policy(app))
        h = response.headers
        h.setdefault("Content-Security-Policy", csp[0])
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "no-referrer")  # a wall token in a URL never travels on
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            h.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
