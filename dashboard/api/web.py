"""The /api/v1 blueprint: bearer tokens checked on every request (no memo: a revoked token gets 401 at once), rate
limits, JSON errors in words, and the OpenAPI document."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, jsonify, request
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from dashboard import access, accounts, db
from dashboard.api import endpoints, ratelimit  # noqa: F401 - endpoints registers the routes
from dashboard.api.registry import PREFIX, ROUTES, ApiError, Route, openapi, parse_query
from dashboard.config import Settings

log = logging.getLogger(__name__)


def error(status: int, message: str, headers: dict | None = None) -> tuple[Response, int, dict]:
    body = {"status": status, "error": HTTP_STATUS_CODES.get(status, "Error"), "message": message}
    return jsonify(body), status, headers or {}


def _view(route: Route):  # noqa: ANN202 - a Flask view
    def view(**path: object) -> Response:
        q = parse_query(route.query, request.args.to_dict())
        return jsonify(route.handler(q, **path).model_dump(mode="json"))

    view.__name__ = route.handler.__name__
    return view


def blueprint(owner: Engine, settings: Settings) -> Blueprint:
    bp = Blueprint("api_v1", __name__, url_prefix=PREFIX)

    @bp.before_request
    def check_token() -> tuple | None:
        if request.path == PREFIX + "/openapi.json":
            return None
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return error(401, "send an API token as 'Authorization: Bearer <token>'", {"WWW-Authenticate": "Bearer"})
        principal = accounts.api_client(owner, accounts.token_hash(token.strip()[:200]))
        if principal is None:
            return error(401, "this API token is not valid or was revoked", {"WWW-Authenticate": "Bearer"})
        hits, left = ratelimit.hit(owner, principal.name)
        limit = settings.api_rate_limit
        if hits > limit:
            return error(429, f"more than {limit} requests this minute for this token", {"Retry-After": str(left)})
        access.set_current(principal)
        return None

    @bp.route("/openapi.json")
    def openapi_json() -> Response:
        return jsonify(openapi())

    for route in ROUTES:
        bp.add_url_rule(route.rule, route.handler.__name__, _view(route), methods=["GET"])

    @bp.route("/", defaults={"rest": ""})
    @bp.route("/<path:rest>")
    def unknown(rest: str) -> tuple:
        return error(404, f"there is no {PREFIX}/{rest[:100]}; see {PREFIX}/openapi.json")

    @bp.errorhandler(ApiError)
    def api_error(exc: ApiError) -> tuple:
        return error(exc.status, exc.message)

    @bp.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple:
        return error(exc.code or 500, exc.description or exc.name)

    @bp.errorhandler(Exception)
    def failed(exc: Exception) -> tuple:
        if isinstance(exc, db.UNAVAILABLE):
            return error(503, "the database is not answering; retry shortly")
        log.error("API error on %s", request.path, exc_info=exc)
        return error(500, "internal error; it has been logged")

    return bp


def init_app(server: Flask, owner: Engine, settings: Settings) -> None:
    """Serve /api/v1; ``owner`` reads the token hashes and counts requests (the pages' reader role cannot)."""
    server.register_blueprint(blueprint(owner, settings))

    @server.errorhandler(405)
    def not_allowed(exc: HTTPException) -> Response | tuple:
        if request.path.startswith(PREFIX + "/"):
            return error(405, f"{request.method} is not allowed here: this API is read-only (GET)")
        return exc
