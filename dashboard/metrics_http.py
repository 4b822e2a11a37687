"""/metrics for Prometheus, and the time of every request by route and of every Dash callback by its output."""

from __future__ import annotations

import hmac
import time

import dash
from dash import Dash
from flask import Response, g, request

from dashboard import metrics
from dashboard.config import Settings

PATH = "/metrics"
_CALLBACK = "/_dash-update-component"


def _route(app: Dash, status: int) -> str:
    """A bounded label: the Flask rule, and for callbacks the output id, but only one the app declared, so a
    hand-made request cannot invent new time series. A refused callback (not signed in, too large) is labelled
    without reading its body, which nobody has read: parsing it here would undo the gate's point."""
    if request.path == _CALLBACK:
        if status >= 400:
            return "callback:refused"
        body = request.get_json(silent=True, cache=True) if request.is_json else None
        output = body.get("output") if isinstance(body, dict) else None
        return f"callback:{output}" if isinstance(output, str) and output in app.callback_map else "callback:unknown"
    rule = request.url_rule
    if rule is None:
        return "unmatched"
    if "<path:" in rule.rule:  # Dash's catch-all: a page's own path, or one label for any other
        pages = {p["path"] for p in dash.page_registry.values()}
        return request.path if request.path in pages else "page:unknown"
    return rule.rule


def allowed(settings: Settings, authorization: str | None) -> bool:
    """Open with AUTH off; with AUTH on only for 'Bearer METRICS_TOKEN', and never when no token is set."""
    if settings.auth == "off":
        return True
    if not settings.metrics_token or not authorization or not authorization.startswith("Bearer "):
        return False
    return hmac.compare_digest(authorization[7:].strip().encode(), settings.metrics_token.encode())


def init_app(app: Dash, settings: Settings) -> None:
    """Call before the sign-in gate: /metrics answers to its token, not to a session."""
    metrics.configure(settings.slow_query_ms)
    server = app.server

    @server.before_request
    def serve_metrics() -> Response | None:
        g.pd_t0 = time.perf_counter()
        if request.path != PATH:
            return None
        if not allowed(settings, request.headers.get("Authorization")):
            why = "set METRICS_TOKEN and send it as a bearer token" if not settings.metrics_token else "wrong token"
            return Response(f"/metrics needs a token while AUTH is on: {why}.\n", 401, mimetype="text/plain")
        body, kind = metrics.exposition()
        return Response(body, 200, content_type=kind)

    @server.after_request
    def observe(response: Response) -> Response:
        t0 = g.get("pd_t0")
        if t0 is not None and request.path != PATH:
            metrics.REQUEST_SECONDS.labels(_route(app, response.status_code)).observe(time.perf_counter() - t0)
        return response
