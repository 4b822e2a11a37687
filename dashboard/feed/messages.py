"""Topic scheme and payload schema: one MQTT message in, a typed signal or a rejection in words out."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

ROOT = "plants"
SUBSCRIPTIONS = (f"{ROOT}/+/+/+/state", f"{ROOT}/+/+/+/count", f"{ROOT}/+/+/+/sensors/+")
STATES = ("running", "idle", "down", "planned_stop")
MAX_PAYLOAD = 4096  # bytes; a real signal is a few dozen
MAX_COUNTER = 2**63 - 1
# Rejections are counted under these names.
TOPIC, MALFORMED, IMPOSSIBLE = "topic", "malformed", "impossible"
UNKNOWN_MACHINE, TOO_LATE = "unknown_machine", "too_late"


@dataclass(frozen=True)
class State:
    machine_id: str
    ts_ms: int
    state: str
    reason: str


@dataclass(frozen=True)
class Count:
    machine_id: str
    ts_ms: int
    total: int
    good: int


@dataclass(frozen=True)
class Reading:
    machine_id: str
    kind: str
    ts_ms: int
    value: float


@dataclass(frozen=True)
class Address:
    plant: str
    line: str
    machine: str
    signal: str  # state, count or sensors/<kind>


Signal = State | Count | Reading


class Rejected(ValueError):
    """A message that is not written: ``why`` is one of the names above, the text says what was wrong."""

    def __init__(self, why: str, text: str) -> None:
        super().__init__(text)
        self.why = why


@lru_cache(maxsize=65536)  # a plant has a fixed set of topics; splitting each again is most of the cost
def parse_topic(topic: str) -> Address:
    parts = topic.split("/")
    signal_ok = (len(parts) == 5 and parts[4] in ("state", "count")) or (len(parts) == 6 and parts[4] == "sensors")
    if not signal_ok or parts[0] != ROOT or not all(parts[1:]):
        raise Rejected(TOPIC, "not plants/<plant>/<line>/<machine>/state|count|sensors/<kind>")
    return Address(parts[1], parts[2], parts[3], "/".join(parts[4:]))


def parse_ts(raw: object) -> int:
    """ISO 8601 with a zone, or seconds since the epoch; milliseconds since the epoch back."""
    if isinstance(raw, bool):
        raise Rejected(MALFORMED, "ts must be ISO 8601 with a zone or seconds since 1970")
    if isinstance(raw, int | float):
        if not math.isfinite(raw) or not 0 < raw < 32503680000:  # before the year 3000
            raise Rejected(IMPOSSIBLE, f"ts {raw!r} is not a time")
        return round(raw * 1000)
    if isinstance(raw, str) and len(raw) <= 40:
        try:
            t = datetime.fromisoformat(raw)
        except ValueError:
            raise Rejected(MALFORMED, f"ts {raw[:40]!r} is not ISO 8601") from None
        if t.tzinfo is None:
            raise Rejected(MALFORMED, f"ts {raw!r} has no time zone")
        return round(t.timestamp() * 1000)
    raise Rejected(MALFORMED, "ts must be ISO 8601 with a zone or seconds since 1970")


def _body(payload: bytes, fields: tuple[str, ...]) -> dict:
    if len(payload) > MAX_PAYLOAD:
        raise Rejected(MALFORMED, f"payload of {len(payload)} bytes is over {MAX_PAYLOAD}")
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise Rejected(MALFORMED, "payload is not JSON") from None
    if not isinstance(body, dict):
        raise Rejected(MALFORMED, "payload is not a JSON object")
    missing = [f for f in fields if f not in body]
    if missing:
        raise Rejected(MALFORMED, f"payload lacks {', '.join(missing)}")
    return body


def _counter(body: dict, name: str) -> int:
    v = body[name]
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise Rejected(MALFORMED, f"{name} must be a whole number, got {str(v)[:20]!r}")
    if not 0 <= v <= MAX_COUNTER:
        raise Rejected(IMPOSSIBLE, f"{name} {v} is negative or too large")
    return v


def parse(topic: str, payload: bytes, reasons: frozenset[str] = frozenset()) -> tuple[Address, Signal]:
    """Validate one message; raise Rejected in words when it cannot be used. ``reasons`` are the known
    downtime reason codes: another code becomes 'unknown' (the state change is kept, its label is not)."""
    addr = parse_topic(topic)
    m = addr.machine
    if addr.signal == "state":
        body = _body(payload, ("ts", "state"))
        state = body["state"]
        if state not in STATES:
            raise Rejected(MALFORMED, f"state {str(state)[:20]!r} is not one of {', '.join(STATES)}")
        reason = body.get("reason") or "unknown"
        if not isinstance(reason, str) or len(reason) > 64:
            raise Rejected(MALFORMED, "reason must be a short text")
        if reasons and reason not in reasons:
            reason = "unknown"
        return addr, State(m, parse_ts(body["ts"]), state, reason if state in ("down", "idle") else "")
    if addr.signal == "count":
        body = _body(payload, ("ts", "total", "good"))
        # Two counters may wrap or reset apart, so good above total is judged per minute, not per message.
        return addr, Count(m, parse_ts(body["ts"]), _counter(body, "total"), _counter(body, "good"))
    body = _body(payload, ("ts", "value"))
    v = body["value"]
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise Rejected(MALFORMED, f"value must be a number, got {str(v)[:20]!r}")
    if not math.isfinite(v) or abs(v) > 1e12:
        raise Rejected(IMPOSSIBLE, f"value {v!r} is not a finite reading")
    return addr, Reading(m, addr.signal.split("/", 1)[1], parse_ts(body["ts"]), float(v))


def encode(signal: Signal) -> bytes:
    """The payload a publisher sends for ``signal`` (the simulator, tests and the bench use it)."""
    ts = signal.ts_ms / 1000
    if isinstance(signal, State):
        body = {"ts": ts, "state": signal.state, "reason": signal.reason}
    elif isinstance(signal, Count):
        body = {"ts": ts, "total": signal.total, "good": signal.good}
    else:
        body = {"ts": ts, "value": signal.value}
    return json.dumps(body, separators=(",", ":")).encode()
