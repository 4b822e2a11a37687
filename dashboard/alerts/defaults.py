"""The rules the demo ships with: what a plant manager would want to hear about on day one."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from dashboard.alerts import rules
from dashboard.alerts.rules import Rule

DEFAULTS = [
    Rule(0, "Plant OEE below 50 % over the last hour", "oee", "plant", threshold=0.5, window_s=3600, for_s=600,
         clear_s=600, hysteresis=0.05, severity="warning"),
    Rule(0, "Line availability below 60 % over the last hour", "availability", "line", threshold=0.6,
         window_s=3600, for_s=600, clear_s=600, hysteresis=0.05, severity="info"),
    Rule(0, "Machine down 20 minutes while planned", "machine_down", "plant", threshold=1200, for_s=0, clear_s=120,
         severity="critical", manual_resolve=True),
    Rule(0, "Sensor beyond its limit for 60 s", "sensor_limit", "plant", threshold=60, clear_s=120,
         severity="warning"),
    Rule(0, "Stock below safety stock", "stock_safety", "plant", threshold=1, severity="critical",
         manual_resolve=True),
    Rule(0, "Days of cover shorter than the lead time", "stock_cover", "plant", threshold=1, hysteresis=0.1,
         severity="warning", manual_resolve=True),
    Rule(0, "No data from a machine for 15 minutes", "no_data", "plant", threshold=900, clear_s=60,
         severity="critical"),
]


def install(engine: Engine) -> int:
    """Add (or refresh) the default rules; return how many."""
    for rule in DEFAULTS:
        rules.add(engine, rule)
    return len(DEFAULTS)
