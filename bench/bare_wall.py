"""bench.load's floor: the bytes of a real wall refresh, from memory, through the same gunicorn settings.

What locust, gunicorn and the network cost by themselves; the wall's figure is its ratio to this.
"""

from __future__ import annotations

import json
import os
from itertools import cycle

from flask import Flask, Response

# One answer per slide, as the real server sent them; served in turn, as the screens rotate.
_ANSWERS = cycle([a.encode() for a in json.loads(open(os.environ["BARE_ANSWERS"]).read())])  # noqa: SIM115
server = Flask(__name__)


@server.post("/_dash-update-component")
def refresh() -> Response:
    return Response(next(_ANSWERS), mimetype="application/json")


@server.get("/healthz")
def healthz() -> Response:
    return Response('{"status":"ok"}', mimetype="application/json")
