"""A small route registry: each endpoint names its query and answer models once, and the OpenAPI document is made
from the same models that parse the request and shape the answer."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from dashboard.api.models import Error

TITLE, VERSION, PREFIX = "Plant dashboards API", "1.0.0", "/api/v1"
ERRORS = {
    400: "The request is not one this API can answer; the message says why",
    401: "No API token, or one that is not valid or was revoked",
    404: "No such plant, line, machine, sensor or path (or not one this token may read)",
    429: "Too many requests for this token in this minute; see Retry-After",
    503: "The database is not answering; retry shortly",
}


class ApiError(Exception):
    """An answer in words with an HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Route:
    rule: str  # Flask rule under PREFIX, e.g. '/sensors/<int:sensor_id>/series'
    handler: Callable[..., BaseModel]
    query: type[BaseModel]
    response: type[BaseModel]
    summary: str
    tag: str
    path_params: dict[str, str] = field(default_factory=dict)  # name -> JSON type

    @property
    def openapi_path(self) -> str:
        return PREFIX + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.rule)


ROUTES: list[Route] = []


def get(rule: str, query: type[BaseModel], response: type[BaseModel], summary: str, tag: str) -> Callable:
    """Register ``handler(query_model, **path_params) -> response_model`` for GET ``rule``."""

    def register(handler: Callable[..., BaseModel]) -> Callable[..., BaseModel]:
        params = {m.group(2): "integer" if m.group(1) == "int" else "string" for m in re.finditer(r"<(?:(\w+):)?(\w+)>", rule)}
        ROUTES.append(Route(rule, handler, query, response, summary, tag, params))
        return handler

    return register


def parse_query(model: type[BaseModel], args: dict[str, str]) -> BaseModel:
    """The query string as ``model``; anything it cannot take is a 400 that names the parameter."""
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"]) or "query"
        if err["type"] == "extra_forbidden":
            raise ApiError(400, f"unknown parameter {where!r}") from None
        raise ApiError(400, f"parameter {where!r}: {err['msg']}") from None


def _no_null(schema: dict) -> dict:
    """An optional query parameter is one that may be left out, not one that may be 'null'."""
    if "anyOf" in schema:
        rest = [s for s in schema["anyOf"] if s.get("type") != "null"]
        if len(rest) == 1:
            return {**{k: v for k, v in schema.items() if k != "anyOf"}, **rest[0]}
    return schema


def _parameters(route: Route) -> list[dict]:
    params = [{"name": n, "in": "path", "required": True, "schema": {"type": t}} for n, t in route.path_params.items()]
    schema = route.query.model_json_schema(by_alias=True)
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        prop = _no_null(dict(prop))
        prop.pop("title", None)
        entry = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            entry["description"] = prop.pop("description")
        params.append(entry)
    return params


def openapi() -> dict:
    """The OpenAPI 3.1 document of every registered route."""
    models = {r.response for r in ROUTES} | {Error}
    _, defs = models_json_schema(
        [(m, "serialization") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    paths: dict[str, dict] = {}
    for r in ROUTES:
        responses = {
            "200": {
                "description": r.summary,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{r.response.__name__}"}}},
            }
        }
        for status, text in ERRORS.items():
            ref = {"$ref": "#/components/schemas/Error"}
            responses[str(status)] = {"description": text, "content": {"application/json": {"schema": ref}}}
        paths[r.openapi_path] = {
            "get": {
                "summary": r.summary,
                "operationId": r.handler.__name__,
                "tags": [r.tag],
                "parameters": _parameters(r),
                "responses": responses,
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Read-only plant KPIs: the same numbers, cache and plant scope as the pages.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
