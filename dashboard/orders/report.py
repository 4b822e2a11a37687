"""Orders answers for a whole view (a URL): each plant's window, as of its end, through dashboard.data and calc."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from dashboard import access, analytics, cache, data, viewstate
from dashboard.orders import calc
from dashboard.queries_orders import FACT_COLUMNS
from dashboard.viewstate import View

TREND_WEEKS = 12  # the OTIF trend looks back at least this far, whatever the range


@dataclass(frozen=True)
class Orders:
    """One view's orders, ready for every chart: each plant's window, its 'today' and the enriched facts."""

    windows: calc.Windows
    trend_windows: calc.Windows
    zones: dict[str, str]
    names: dict[str, str]
    as_of: dict[str, datetime]
    today: dict[str, date]
    facts: pd.DataFrame

    def completed(self) -> pd.DataFrame:
        return calc.completed(self.facts, self.windows)

    def otif(self, windows: calc.Windows | None = None) -> pd.DataFrame:
        return calc.otif_status(calc.promised_in(self.facts, windows or self.windows, self.zones), self.today)

    def wip(self) -> pd.DataFrame:
        return calc.wip(self.facts, self.as_of)

    def late(self) -> pd.DataFrame:
        return calc.late_and_at_risk(self.wip(), self.today, data.settings().order_at_risk_days)


def load(view: View, at: datetime, previous: bool = False) -> Orders:
    """The orders of ``view`` at ``at`` (or of the period of the same length before it), lines as filtered; kept in
    the query cache for the refresh interval, so the page, its CSV buttons and the overview enrich them once."""
    s = data.settings()
    key = cache.make_key("orders_load", viewstate.to_store(view), at, previous, access.plants(None))
    return cache.query_cache.get_or_compute(
        key, lambda: _load(view, at, previous), cache.timeout_for(at, s.refresh_seconds, s.cache_timeout)
    )


def _load(view: View, at: datetime, previous: bool) -> Orders:
    windows, zones, names = {}, {}, {}
    for w in analytics.plant_windows(view, at):
        start, end = (w.start - (w.end - w.start), w.start) if previous else (w.start, w.end)
        windows[w.plant_id], zones[w.plant_id], names[w.plant_id] = (start, end), w.tz, w.name
    trend = {p: (min(s, e - timedelta(weeks=TREND_WEEKS)), e) for p, (s, e) in windows.items()}
    if windows:
        lo, hi = min(s for s, _ in trend.values()), max(e for _, e in trend.values())
        facts = data.order_facts(lo, hi, tuple(sorted(windows)))
    else:
        facts = pd.DataFrame(columns=FACT_COLUMNS)
    facts = _in_view(facts, view)
    enriched = calc.enrich(facts, zones, data.settings().otif_tolerance_pct)
    today = {p: calc.local_range(s, e, zones[p])[1] for p, (s, e) in windows.items()}
    return Orders(windows, trend, zones, names, {p: e for p, (_, e) in windows.items()}, today, enriched)


def _in_view(facts: pd.DataFrame, view: View) -> pd.DataFrame:
    """Orders of the lines in view: chosen lines, or the lines of the chosen machines."""
    lines = set(view.lines)
    if view.machines:
        h = data.hierarchy()
        lines |= set(h.loc[h["machine_id"].isin(view.machines), "line_id"])
    return facts[facts["line_id"].isin(lines)].reset_index(drop=True) if lines else facts


def kpis(o: Orders) -> dict[str, float]:
    """The page's cards: OTIF (with counted and pending), mean lead time MTO and MTS, late orders and WIP."""
    lead = calc.lead_by_kind(o.completed())
    wip = o.wip()
    late = calc.late_and_at_risk(wip, o.today, data.settings().order_at_risk_days)
    return {
        **calc.otif_summary(o.otif()),
        "lead_mto_s": lead["MTO"],
        "lead_mts_s": lead["MTS"],
        "late": int((late["risk"] == "late").sum()),
        "at_risk": int((late["risk"] == "at risk").sum()),
        "wip": len(wip),
        "completed": len(o.completed()),
    }


def otif(o: Orders) -> dict[str, float]:
    """OTIF alone (counted, pending, ratio), for the overview's card."""
    return calc.otif_summary(o.otif())


def stages(o: Orders, group: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """Mean stage seconds per plant or per line, and display names for the keys."""
    key = "line_id" if group in ("line", "machine") else "plant_id"
    names = analytics.group_names("line") if key == "line_id" else o.names
    return calc.stage_summary(o.completed(), key).rename(columns={key: "key"}), names


def distribution(o: Orders) -> pd.DataFrame:
    s = data.settings()
    return calc.bands(o.completed(), s.order_delayed_days, s.order_critical_days)


def weekly(o: Orders) -> pd.DataFrame:
    return calc.otif_weekly(o.otif(o.trend_windows))


def daily_otif(o: Orders, days: int = 14) -> pd.DataFrame:
    """OTIF per plant-local promised date over the last ``days`` days: the overview's sparkline."""
    last = {p: calc.local_range(s, e, o.zones[p])[1] for p, (s, e) in o.windows.items()}
    windows = {
        p: (pd.Timestamp(d - timedelta(days=days - 1)).tz_localize(o.zones[p]).to_pydatetime(), o.as_of[p])
        for p, d in last.items()
    }
    status = o.otif({p: w for p, w in windows.items() if w[0] < w[1]})
    if status.empty:
        return pd.DataFrame(columns=["day", "otif", "counted", "ratio"])
    g = status.groupby("promised_date", as_index=False).agg(otif=("otif", "sum"), counted=("counted", "sum"))
    g["ratio"] = g["otif"] / g["counted"].where(g["counted"] > 0)
    return g.rename(columns={"promised_date": "day"})


def trace(order_id: str) -> tuple[pd.Series | None, pd.DataFrame, pd.DataFrame]:
    """(order, timeline rows, deliveries) for one order id; order None when unknown to this principal."""
    t = data.order_trace(order_id)
    if t["order"].empty:
        return None, pd.DataFrame(), pd.DataFrame()
    order = t["order"].iloc[0]
    return order, calc.trace(order, t["runs"], t["deliveries"]), t["deliveries"]
