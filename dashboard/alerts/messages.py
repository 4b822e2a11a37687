"""What a firing or resolved alert says, and the link to the page, range and plant that show the problem."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from dashboard.alerts import measure
from dashboard.alerts.rules import KINDS, Rule
from dashboard.alerts.state import Instance


def link(rule: Rule, subject: str, plant: str, base_url: str) -> str:
    """The page that shows the problem, with its plant, range and (where the page has it) line or machine."""
    kind = KINDS[rule.kind]
    what, _, ident = subject.partition(":")
    if kind.page == "/inventory":
        return f"{base_url}/inventory#" + urlencode({"range": "7d", "plant": plant}, safe=",")
    q = {"range": "24h" if rule.window_s <= 86400 else "7d", "plant": plant}
    if what == "sensor":
        return f"{base_url}/explorer#" + urlencode({"plant": plant, "sensor": ident}, safe=",")
    if what in ("line", "machine"):
        q[what] = ident
    q["group"] = "line" if what == "plant" else "machine"
    return f"{base_url}/oee#" + urlencode(q, safe=",")


def _when(ts: datetime | None) -> str:
    return ts.strftime("%Y-%m-%d %H:%M UTC") if ts else "-"


def body(rule: Rule, subject: str, plant: str, inst: Instance, event: str, base_url: str) -> dict:
    """Everything a channel needs: a subject line, plain text, the link, and the facts as fields."""
    kind = KINDS[rule.kind]
    what = subject.replace(":", " ", 1)
    value = measure.describe(rule.kind, inst.value)
    head = "FIRING" if event == "firing" else "RESOLVED"
    title = f"[{head}] {rule.severity.upper()} {plant} {what}: {rule.name}"
    url = link(rule, subject, plant, base_url)
    since = f"since {_when(inst.started)}" if event == "firing" else f"{_when(inst.started)} to {_when(inst.ended)}"
    text = f"{title}\n{kind.label} is {value} ({since}).\n{url}"
    return {
        "title": title,
        "text": text,
        "link": url,
        "event": event,
        "rule": rule.name,
        "rule_id": rule.rule_id,
        "kind": rule.kind,
        "severity": rule.severity,
        "plant": plant,
        "subject": subject,
        "value": None if inst.value is None or inst.value != inst.value or abs(inst.value) == float("inf")
        else inst.value,
        "episode": inst.episode,
        "started": inst.started.isoformat() if inst.started else None,
        "ended": inst.ended.isoformat() if inst.ended else None,
    }
