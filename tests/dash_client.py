"""Talking to a running app as its browser would: sign in, and build and read Dash callback requests."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import requests


def sign_in(base: str, username: str, password: str, **kwargs: object) -> tuple[requests.Session, requests.Response]:
    """Open the sign-in page (which sets the form's token in the session) and post the form."""
    s = requests.Session()
    data = {"username": username, "password": password, "csrf": form_token(base, s)}
    return s, s.post(base + "/login", data=data, allow_redirects=False, **kwargs)


def form_token(base: str, session: requests.Session) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', session.get(base + "/login").text).group(1)


def server_callbacks(base: str, session: requests.Session) -> list[dict]:
    """Every callback the server answers (clientside ones run in the browser and are left out)."""
    return [c for c in session.get(base + "/_dash-dependencies").json() if not c.get("clientside_function")]


def find(callbacks: list[dict], output_prefix: str) -> dict:
    return next(c for c in callbacks if c["output"].lstrip(".").startswith(output_prefix))


def by_id(cb: dict, values: dict[str, object]) -> list:
    """Values for the callback's inputs then its state, by component id (None where not given)."""
    return [values.get(d["id"]) for d in cb["inputs"] + cb.get("state", [])]


def body(cb: dict, values: list, pattern_member: str = "ALL") -> dict:
    """The request the browser sends for ``cb`` with ``values`` for its inputs then its state; a pattern-matching
    input gets one member whose wildcard key is ``pattern_member``."""
    multi = cb["output"].startswith("..")
    parts = cb["output"][2:-2].split("...") if multi else [cb["output"]]
    outputs = [dict(zip(("id", "property"), p.split("@")[0].rsplit(".", 1), strict=True)) for p in parts]
    deps = cb["inputs"] + cb.get("state", [])
    entries = [_entry(d, v, pattern_member) for d, v in zip(deps, values, strict=False)]
    return {
        "output": cb["output"],
        "outputs": outputs if multi else outputs[0],
        "inputs": entries[: len(cb["inputs"])],
        "state": entries[len(cb["inputs"]) :],
        "changedPropIds": [f"{cb['inputs'][0]['id']}.{cb['inputs'][0]['property']}"],
    }


def _entry(dep: dict, value: object, pattern_member: str) -> dict | list:
    if dep["id"].startswith("{"):
        pattern = json.loads(dep["id"])
        member = {k: pattern_member if v == ["ALL"] else v for k, v in pattern.items()}
        return [{"id": member, "property": dep["property"], "value": value}]
    return {"id": dep["id"], "property": dep["property"], "value": value}


def strings(node: object) -> Iterator[str]:
    """Every string in a JSON answer, without plotly's base64 number arrays (which may spell anything)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k != "bdata":
                yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)
    elif isinstance(node, str):
        yield node
