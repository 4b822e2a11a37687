"""Simulated production orders that match the simulated production: each machine runs one order per shift, and
the good units it made in that shift are the order's output. Deterministic: the same seed, machine and shift
always give the same order, so any window (backfill, live tick, restart) writes the same rows.

Of the orders, about 10 % are ordered more than the shift makes (short), 8 % wait for material before they
start, 15 % ship in two partial deliveries, 2 % have part of a delivery reversed, and dispatch times are spread
so that roughly one order in six ships after its promised date. Events after 'now' are not written yet: an
order appears when it is created and its row is updated as it is released, started, finished and shipped.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from dashboard.simulator import EPOCH, Machine, Plant, Topology, _rng, machine_day

HOUR = pd.Timedelta(hours=1)
BEFORE = pd.Timedelta(hours=108)  # the earliest an order is created before its shift: waiting + queue + hold
AFTER = pd.Timedelta(hours=102)  # the latest its last row changes after its shift: dispatch + a reversal
CUSTOMERS = ["Auto Nord", "Meyer GmbH", "Fleetline", "Kessler AG", "Ridgeway Motors", "Tata Parts", "Orion"]


def _shifts(machine: Machine, lo: pd.Timestamp, hi: pd.Timestamp) -> list[tuple[pd.Timestamp, pd.Timestamp, str]]:
    """(start, end, letter) of the machine's plant's shifts on working days, starting in [lo, hi)."""
    first = (lo - EPOCH) // pd.Timedelta(days=1) - 1
    last = (hi - EPOCH) // pd.Timedelta(days=1) + 1
    return [s for d in range(first, last + 1) for s in _plant_shifts(machine.plant, d) if lo <= s[0] < hi]


@lru_cache(maxsize=20_000)
def _plant_shifts(plant: Plant, day: int) -> tuple[tuple[pd.Timestamp, pd.Timestamp, str], ...]:
    """The shifts a plant starts on its local date ``day`` (days since 1970-01-01), on working days only."""
    local = pd.Timestamp(EPOCH.date()) + pd.Timedelta(days=day)
    if local.day_of_week not in plant.workdays:
        return ()
    starts = [(local + pd.Timedelta(hours=h)).tz_localize(plant.tz).tz_convert("UTC") for h in plant.shift_starts]
    return tuple((s, s + plant.shift_hours * HOUR, "ABC"[i]) for i, s in enumerate(starts))


@lru_cache(maxsize=50_000)
def _made(seed: int, machine: Machine, start: pd.Timestamp, end: pd.Timestamp) -> tuple:
    """(first producing minute, end of the last producing minute, good units) within [start, end)."""
    if end <= start:
        return None, None, 0
    a, b = (int((t - EPOCH).total_seconds() // 60) for t in (start, end))  # minutes since the epoch
    firsts, lasts, good = [], [], 0
    for d in range(a // 1440, (b - 1) // 1440 + 1):
        md = machine_day(seed, machine, d)
        lo, hi = max(a - d * 1440, 0), min(b - d * 1440, 1440)
        keep = np.flatnonzero(md.total[lo:hi] > 0) + lo
        if len(keep):
            firsts.append(d * 1440 + keep[0])
            lasts.append(d * 1440 + keep[-1])
            good += int(md.good[keep].sum())
    if not firsts:
        return None, None, 0
    minute = pd.Timedelta(minutes=1)
    return EPOCH + min(firsts) * minute, EPOCH + (max(lasts) + 1) * minute, good


def _expected(machine: Machine) -> float:
    """Good units a shift is planned for: planned time less the break, at 82 % of ideal speed (the planners'
    allowance for stops), less the usual scrap. A shift that loses more than that falls short."""
    seconds = (machine.plant.shift_hours - 0.5) * 3600
    return seconds * 0.82 * machine.speed / machine.ideal_cycle_s * (1 - machine.defect_rate)


def _plan(seed: int, machine: Machine, start: pd.Timestamp, end: pd.Timestamp, letter: str, now: pd.Timestamp):  # noqa: ANN202
    """One order's whole life, and what of it has happened by ``now``: (order, runs, deliveries) rows or None."""
    rng = _rng(seed, 11, machine.index, int(start.timestamp()) // 60)
    queue = HOUR * float(np.clip(rng.lognormal(np.log(10), 0.7), 1, 36))
    hold = rng.random() < 0.08
    if hold:
        queue += HOUR * float(rng.uniform(24, 48))
    released = start - queue
    created = released - HOUR * float(np.clip(rng.lognormal(np.log(8), 0.8), 0.5, 24))
    mto, partial, reversal = rng.random() < 0.6, rng.random() < 0.15, rng.random() < 0.02
    customer = CUSTOMERS[int(rng.integers(len(CUSTOMERS)))]
    ordered = max(10.0, float(np.round(_expected(machine) * rng.uniform(0.92, 1.04), -1)))
    promised = (end + HOUR * float(rng.uniform(20, 60))).tz_convert(machine.plant.tz).date()
    dispatch = HOUR * float(np.clip(rng.lognormal(np.log(18), 0.7), 2, 72))
    if created > now:
        return None
    first, last, good = _made(seed, machine, start, min(end, now))
    if first is None and now >= end:
        return None  # the machine made nothing this shift (a long breakdown): no order
    done = now >= end
    seen = lambda t: t if t is not None and t <= now else None  # noqa: E731
    order_id = f"PO-{machine.machine_id}-{start.tz_convert(machine.plant.tz):%y%m%d}{letter}"
    order = {
        "order_id": order_id,
        "plant_id": machine.plant.plant_id,
        "material_id": f"FG-{machine.line_id[-2:]}{machine.index % 4 + 1}0",
        "kind": "MTO" if mto else "MTS",
        "customer": customer if mto else None,
        "qty_ordered": ordered,
        "qty_produced": float(good),
        "line_id": machine.line_id,
        "created_at": created,
        "released_at": seen(released),
        "planned_start": start,
        "planned_finish": end,
        "actual_start": first,
        "actual_finish": last if done else None,
        "hold_reason": "material" if hold and first is None and seen(released) else None,
    }
    runs = [(order_id, machine.machine_id, first, last if done else None, float(good))] if first else []
    shipped = min(ordered, float(good))
    issue = last + dispatch if done else None
    schedule = [(0.6, last + dispatch * 0.4 if done else None), (0.4, issue)] if partial else [(1.0, issue)]
    deliveries, left = [], shipped
    for i, (share, when) in enumerate(schedule, 1):
        if seen(when):
            qty = left if i == len(schedule) else min(left, float(np.round(shipped * share)))
            left -= qty
        else:
            qty = float(np.round(ordered * share))
        deliveries.append((order_id, i, promised, qty, seen(when)))
    if reversal and issue is not None and seen(issue + 30 * HOUR) and shipped >= 10:
        deliveries.append((order_id, len(schedule) + 1, promised, -float(np.round(shipped * 0.2)), issue + 30 * HOUR))
    return order, runs, deliveries


def prime(topo: Topology, start: pd.Timestamp, end: pd.Timestamp) -> None:
    """Work out the output of every shift that ends in [start, end), while the simulator still has those minutes in
    its cache: a backfill calls this per window and writes the orders once at its end."""
    for m in topo.machines:
        for s0, s1, _ in _shifts(m, start - pd.Timedelta(days=1), end):
            if start <= s1 < end:
                _made(topo.seed, m, s0, s1)


def rows(
    topo: Topology, start: pd.Timestamp, end: pd.Timestamp, shifts_from: pd.Timestamp | None = None
) -> dict[str, pd.DataFrame]:
    """Every order whose life touches [start, end), as it stood at ``end``: rows for the three order tables.
    ``shifts_from`` leaves out orders of earlier shifts (a backfill has no production before its start)."""
    orders, runs, deliveries = [], [], []
    for m in topo.machines:
        for s0, s1, letter in _shifts(m, max(start - AFTER, shifts_from or start - AFTER), end + BEFORE):
            if s1 + AFTER < start:
                continue
            plan = _plan(topo.seed, m, s0, s1, letter, end)
            if plan is not None:
                orders.append(plan[0])
                runs += plan[1]
                deliveries += [d for d in plan[2] if d[3] != 0]
    times = ["created_at", "released_at", "planned_start", "planned_finish", "actual_start", "actual_finish"]
    o = pd.DataFrame(orders)
    if len(o):
        o = o.assign(**{c: pd.to_datetime(o[c], utc=True) for c in times})
    r = pd.DataFrame(runs, columns=["order_id", "machine_id", "start_ts", "end_ts", "qty_good"])
    r["start_ts"], r["end_ts"] = pd.to_datetime(r["start_ts"], utc=True), pd.to_datetime(r["end_ts"], utc=True)
    d = pd.DataFrame(deliveries, columns=["order_id", "delivery_no", "promised_date", "qty", "goods_issue_at"])
    d["goods_issue_at"] = pd.to_datetime(d["goods_issue_at"], utc=True)
    return {"production_order": o, "production_order_run": r, "delivery": d}
