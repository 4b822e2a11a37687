"""Deterministic plant simulator: topology, production, downtime, telemetry and inventory as DataFrames."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

# (id, name, time zone, shift starts (local hour), shift hours, production weekdays Mon=0)
PLANTS = [
    ("DET", "Detroit Assembly", "America/Detroit", (6, 14, 22), 8, (0, 1, 2, 3, 4, 5)),
    ("STR", "Stuttgart Machining", "Europe/Berlin", (6, 14), 8, (0, 1, 2, 3, 4)),
    ("PNQ", "Pune Components", "Asia/Kolkata", (6, 14, 22), 8, (0, 1, 2, 3, 4, 5, 6)),
    ("MTY", "Monterrey Stamping", "America/Monterrey", (7, 19), 12, (0, 1, 2, 3, 4, 5)),
    ("SZX", "Shenzhen Electronics", "Asia/Shanghai", (8, 20), 12, (0, 1, 2, 3, 4, 5, 6)),
    ("BNE", "Brisbane Packaging", "Australia/Brisbane", (6, 14), 8, (0, 1, 2, 3, 4)),
]
REASONS = [
    ("mech_failure", "Mechanical failure", "breakdown"),
    ("elec_failure", "Electrical failure", "breakdown"),
    ("tooling", "Tool breakage", "breakdown"),
    ("changeover", "Product changeover", "setup"),
    ("material_change", "Material change", "setup"),
    ("jam", "Part jam", "minor_stop"),
    ("blocked", "Blocked by downstream", "minor_stop"),
    ("starved", "Starved of material", "minor_stop"),
]
BREAKDOWN_REASONS = ["mech_failure", "elec_failure", "tooling", "unknown"]
BREAKDOWN_P = [0.40, 0.25, 0.20, 0.15]
MINOR_REASONS = ["jam", "blocked", "starved", "unknown"]
MINOR_P = [0.45, 0.25, 0.20, 0.10]
# kind, unit, base, daily swing, drift, noise sd, spike size, lo limit, hi limit
SENSORS = [
    ("temperature", "°C", 58.0, 6.0, 4.0, 0.35, 18.0, 15.0, 80.0),
    ("vibration", "mm/s", 2.6, 0.3, 0.9, 0.15, 5.5, None, 7.1),
    ("current", "A", 12.0, 0.8, 1.5, 0.25, 9.0, None, 25.0),
]
# What a stopped machine's sensors read, as a share of the running value: cooling, quiet, little current.
IDLE = [0.8, 0.1, 0.12]
MATERIALS = [
    ("STEEL-COIL", "Steel coil", "kg", 1.15),
    ("ALU-BAR", "Aluminium bar", "kg", 3.10),
    ("RESIN", "Resin pellets", "kg", 2.40),
    ("FASTENER", "Fasteners M6", "pcs", 0.04),
    ("PAINT", "Powder coat", "kg", 6.80),
    ("CARTON", "Shipping cartons", "pcs", 0.55),
    ("BEARING", "Ball bearings", "pcs", 1.90),
    ("LUBE", "Cutting fluid", "L", 4.20),
]


@dataclass(frozen=True)
class Plant:
    plant_id: str
    name: str
    tz: str
    shift_starts: tuple[int, ...]
    shift_hours: int
    workdays: tuple[int, ...]


@dataclass(frozen=True)
class Machine:
    index: int
    machine_id: str
    line_id: str
    plant: Plant
    ideal_cycle_s: float
    breakdowns_per_day: float
    defect_rate: float
    speed: float


@dataclass(frozen=True)
class Topology:
    seed: int
    plants: tuple[Plant, ...]
    machines: tuple[Machine, ...]

    def sensors(self) -> list[tuple[int, Machine, int]]:
        """(sensor_id, machine, index into SENSORS) for every sensor."""
        return [(m.index * 10 + k + 1, m, k) for m in self.machines for k in range(len(SENSORS))]


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng([abs(int(k)) for k in key])


def topology(seed: int = 42, plants: int = 3, machines: int = 40) -> Topology:
    """Plants, lines and machines; the same arguments always give the same plant."""
    if not 1 <= plants <= len(PLANTS):
        raise ValueError(f"plants must be between 1 and {len(PLANTS)}, got {plants}")
    if machines < plants:
        raise ValueError(f"machines ({machines}) must be at least the number of plants ({plants})")
    rng = _rng(seed, 0)
    ps = tuple(Plant(*p) for p in PLANTS[:plants])
    out: list[Machine] = []
    for p_idx, plant in enumerate(ps):
        count = machines // plants + (1 if p_idx < machines % plants else 0)
        for j in range(count):
            line_no = j // 4 + 1
            out.append(
                Machine(
                    index=len(out),
                    machine_id=f"{plant.plant_id}-L{line_no}-M{j % 4 + 1}",
                    line_id=f"{plant.plant_id}-L{line_no}",
                    plant=plant,
                    ideal_cycle_s=float(np.round(rng.uniform(2.0, 12.0), 1)),
                    breakdowns_per_day=float(rng.uniform(0.5, 2.5)),
                    defect_rate=float(rng.uniform(0.004, 0.03)),
                    speed=float(rng.uniform(0.80, 0.95)),
                )
            )
    return Topology(seed, ps, tuple(out))


def dimensions(topo: Topology) -> dict[str, pd.DataFrame]:
    """Rows for every dimension table, in the order they must be written."""
    plants = pd.DataFrame([(p.plant_id, p.name, p.tz) for p in topo.plants], columns=["plant_id", "name", "tz"])
    shifts = pd.DataFrame(
        [
            (p.plant_id, "ABC"[i], f"{h:02d}:00", p.shift_hours)
            for p in topo.plants
            for i, h in enumerate(p.shift_starts)
        ],
        columns=["plant_id", "name", "starts", "hours"],
    )
    lines = pd.DataFrame(
        sorted({(m.line_id, m.plant.plant_id, f"Line {m.line_id.split('-L')[1]}") for m in topo.machines}),
        columns=["line_id", "plant_id", "name"],
    )
    machines = pd.DataFrame(
        [(m.machine_id, m.line_id, f"Machine {m.machine_id.split('-M')[1]}", m.ideal_cycle_s) for m in topo.machines],
        columns=["machine_id", "line_id", "name", "ideal_cycle_s"],
    )
    reasons = pd.DataFrame(REASONS, columns=["reason_code", "label", "category"])
    sensors = pd.DataFrame(
        [(sid, m.machine_id, *SENSORS[k][:2], SENSORS[k][7], SENSORS[k][8]) for sid, m, k in topo.sensors()],
        columns=["sensor_id", "machine_id", "kind", "unit", "lo_limit", "hi_limit"],
    )
    materials = pd.DataFrame(MATERIALS, columns=["material_id", "name", "unit", "unit_cost"])
    policies = pd.DataFrame(
        [
            (p.plant_id, mat[0], *_policy(topo.seed, i, k)[:3])
            for i, p in enumerate(topo.plants)
            for k, mat in enumerate(MATERIALS)
        ],
        columns=["plant_id", "material_id", "reorder_point", "safety_stock", "lead_time_days"],
    )
    return {
        "plant": plants,
        "shift": shifts,
        "line": lines,
        "machine": machines,
        "downtime_reason": reasons,
        "sensor": sensors,
        "material": materials,
        "stock_policy": policies,
    }


def _policy(seed: int, plant_idx: int, mat_idx: int) -> tuple[float, float, float, float, float]:
    """reorder point, safety stock, lead time (days), daily use, supplier delay factor (worst case).

    The reorder point is the demand over the lead time plus a safety stock that covers a late delivery from the
    slowest supplier (up to ``delay`` times the lead time), so stock dips into the safety stock now and then but a
    replenishment arrives before it runs out: what a planner would set.
    """
    rng = _rng(seed, 7, plant_idx, mat_idx)
    daily = float(np.round(rng.uniform(200, 5000), -1))
    lead = float(rng.integers(2, 9))
    # Two materials per plant have an unreliable supplier (up to 60 % late), so some stock runs low in every demo.
    delay = 1.6 if (mat_idx + plant_idx) % 4 == 1 else 1.15
    # Safety stock covers the busiest days (a five-day plant uses about 1.35 times the average on a weekday) of
    # the latest delivery, plus a day.
    safety = float(np.round(daily * (lead * (1.35 * delay - 1.0) + 1.0), -1))
    return daily * lead + safety, safety, lead, daily, delay


def order_quantity(daily: float, lead: float) -> float:
    """One order covers three weeks of use (more than any lead time): one order in flight at a time, and stock
    below its reorder point only while an order is on its way."""
    return float(round(daily * max(lead * 1.5, 21.0), -1))


@lru_cache(maxsize=16)
def busy_share(plant: Plant) -> float:
    """The share of a week's hours with planned production (consumption is concentrated there)."""
    hours = pd.date_range("2024-01-01 00:30", periods=168, freq="h", tz="UTC")
    return float((planned_minutes(plant, hours) > 0).mean())


DAY = pd.Timedelta(days=1)
EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


@dataclass(frozen=True)
class MachineDay:
    minutes: pd.DatetimeIndex  # 1440 UTC minute starts
    planned: np.ndarray  # planned seconds per minute
    run: np.ndarray  # run seconds per minute
    total: np.ndarray
    good: np.ndarray
    startup: np.ndarray
    events: pd.DataFrame  # start_ts, end_ts, reason_code


def planned_minutes(plant: Plant, minutes: pd.DatetimeIndex) -> np.ndarray:
    """Planned seconds per minute from the plant's local shift calendar (a half-hour break mid-shift)."""
    local = minutes.tz_convert(plant.tz)
    minute_of_day = local.hour * 60 + local.minute
    planned = np.zeros(len(minutes), dtype=bool)
    for start in plant.shift_starts:
        since = (minute_of_day - start * 60) % 1440
        in_shift = since < plant.shift_hours * 60
        brk = plant.shift_hours * 30  # break starts halfway through the shift
        on_break = (since >= brk) & (since < brk + 30)
        # A night shift belongs to the day it started on.
        start_day = (local - pd.to_timedelta(since, unit="min")).day_of_week
        planned |= in_shift & ~on_break & np.isin(start_day, plant.workdays)
    return np.where(planned, 60.0, 0.0)


@lru_cache(maxsize=512)
def machine_day(seed: int, machine: Machine, day_number: int) -> MachineDay:
    """One machine's UTC day, minute by minute; depends only on (seed, machine, day)."""
    rng = _rng(seed, 1, machine.index, day_number)
    minutes = pd.date_range(EPOCH + day_number * DAY, periods=1440, freq="min")
    planned = planned_minutes(machine.plant, minutes)
    before = planned_minutes(machine.plant, minutes[:1] - pd.Timedelta(minutes=1))
    lost = np.zeros(1440)
    down = np.zeros(1440, dtype=bool)
    events: list[tuple[pd.Timestamp, pd.Timestamp, str]] = []
    starts_idx = np.flatnonzero((planned > 0) & (np.r_[before, planned[:-1]] == 0))

    def add(start_s: float, length_s: float, reason: str) -> None:
        start = minutes[0] + pd.Timedelta(seconds=round(start_s))
        end = min(start + pd.Timedelta(seconds=round(length_s)), minutes[0] + DAY)
        if events and start < events[-1][1] or end <= start:
            return
        events.append((start, end, reason))

    candidates: list[tuple[float, float, str]] = []
    for i in starts_idx:  # changeovers at shift starts
        if rng.random() < 0.35:
            candidates.append((i * 60.0, rng.uniform(10, 35) * 60, rng.choice(["changeover", "material_change"])))
    plan_idx = np.flatnonzero(planned > 0)
    if len(plan_idx):
        n = rng.poisson(machine.breakdowns_per_day * len(plan_idx) / 1440)
        for i in rng.choice(plan_idx, size=n):
            length = float(np.clip(rng.lognormal(math.log(18), 0.8), 3, 240)) * 60
            candidates.append((i * 60.0 + rng.integers(0, 60), length, rng.choice(BREAKDOWN_REASONS, p=BREAKDOWN_P)))
    for s, length, reason in sorted(candidates):
        add(s, length, str(reason))
    for start, end, _ in events:
        a = int((start - minutes[0]).total_seconds())
        b = int((end - minutes[0]).total_seconds())
        for m in range(a // 60, min((b - 1) // 60, 1439) + 1):
            overlap = min(b, (m + 1) * 60) - max(a, m * 60)
            lost[m] += overlap
            down[m] = True
    minor = (planned > 0) & ~down & (rng.random(1440) < 0.05)
    minor_len = rng.integers(5, 46, 1440)
    minor_off = rng.integers(0, 15, 1440)
    minor_reason = rng.choice(MINOR_REASONS, size=1440, p=MINOR_P)
    for m in np.flatnonzero(minor):
        lost[m] += minor_len[m]
        events.append(
            (
                minutes[m] + pd.Timedelta(seconds=int(minor_off[m])),
                minutes[m] + pd.Timedelta(seconds=int(minor_off[m] + minor_len[m])),
                str(minor_reason[m]),
            )
        )
    run = np.clip(planned - lost, 0, planned)

    t = (np.arange(1440) + day_number * 1440) / 1440.0
    speed = np.clip(
        machine.speed + 0.04 * np.sin(2 * np.pi * (t / 3.3 + machine.index / 7)) + rng.normal(0, 0.02, 1440), 0.5, 1.0
    )
    total = np.floor(run * speed / machine.ideal_cycle_s + rng.random(1440)).astype(np.int64)
    total[run == 0] = 0
    # Start-up rejects in the ten minutes after a stop ends.
    ended = np.flatnonzero(down[:-1] & ~down[1:]) + 1
    startup_window = np.zeros(1440, dtype=bool)
    for e in ended:
        startup_window[e : e + 10] = True
    startup = rng.binomial(total, np.where(startup_window, 0.12, 0.0))
    defects = rng.binomial(total - startup, machine.defect_rate)
    good = total - startup - defects
    ev = pd.DataFrame(sorted(events), columns=["start_ts", "end_ts", "reason_code"])
    return MachineDay(minutes, planned, run, total, good, startup, ev)


def production_rows(seed: int, machine: Machine, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Minutes in [start, end) with planned time, as rows of the production table."""
    frames = []
    for day in range(_day(start), _day(end - pd.Timedelta(microseconds=1)) + 1):
        md = machine_day(seed, machine, day)
        keep = (md.planned > 0) & (md.minutes >= start) & (md.minutes < end)
        if keep.any():
            frames.append(
                pd.DataFrame(
                    {
                        "machine_id": machine.machine_id,
                        "ts": md.minutes[keep],
                        "planned_s": md.planned[keep],
                        "run_s": md.run[keep],
                        "total_count": md.total[keep],
                        "good_count": md.good[keep],
                        "startup_rejects": md.startup[keep],
                        "ideal_cycle_s": machine.ideal_cycle_s,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def downtime_rows(seed: int, machine: Machine, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Downtime events that ended in [start, end): an event is written once it is over."""
    frames = []
    for day in range(_day(start), _day(end - pd.Timedelta(microseconds=1)) + 1):
        ev = machine_day(seed, machine, day).events
        frames.append(ev[(ev.end_ts > start) & (ev.end_ts <= end)])
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "machine_id", machine.machine_id)
    return out


def telemetry_rows(
    seed: int, topo: Topology, start: pd.Timestamp, end: pd.Timestamp, step_s: int = 1, sensors: int | None = None
) -> pd.DataFrame:
    """Sensor readings every ``step_s`` seconds in [start, end) while each machine has planned time (it is powered):
    running values while it runs, idle values (cooler, quiet, little current) while it is stopped, and gaps only
    where nothing is planned. Readings used to stop with the machine, so a breakdown looked like a dead sensor and
    the newest reading lagged production by the length of the stop."""
    t0 = int((start - EPOCH).total_seconds())
    t0 += -t0 % step_s
    t1 = int(np.ceil((end - EPOCH).total_seconds()))
    secs = np.arange(t0, t1, step_s, dtype=np.int64)
    if not len(secs):
        return pd.DataFrame(columns=["sensor_id", "ts", "value"])
    hours = np.unique(secs // 3600)
    days = np.arange(secs[0] // 86400, secs[-1] // 86400 + 1)
    frames = []
    for sensor_id, machine, k in topo.sensors():
        if sensors is not None and k >= sensors:
            continue
        mds = [machine_day(seed, machine, int(d)) for d in days]
        minute = secs // 60 - days[0] * 1440
        powered = np.concatenate([md.planned for md in mds])[minute] > 0
        keep = secs[powered]
        if not len(keep):
            continue
        running = np.concatenate([md.run for md in mds])[minute[powered]] >= 30
        noise = np.concatenate([_sensor_noise(seed, sensor_id, k, int(h)) for h in hours])[keep - hours[0] * 3600]
        shape = _sensor_shape(machine, k, keep)
        value = np.where(running, shape + noise, shape * IDLE[k] + 0.3 * noise)
        frames.append(
            pd.DataFrame(
                {"sensor_id": sensor_id, "ts": EPOCH + pd.to_timedelta(keep, unit="s"), "value": np.round(value, 3)}
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["sensor_id", "ts", "value"])


def _sensor_shape(machine: Machine, k: int, secs: np.ndarray) -> np.ndarray:
    """The smooth part of a signal: daily swing and slow drift."""
    _, _, base, swing, drift, *_ = SENSORS[k]
    t = secs / 86400.0
    phase = machine.index * 0.37 + k
    return base + swing * np.sin(2 * np.pi * (t + phase)) + drift * np.sin(2 * np.pi * (t / 5.3 + phase))


def _sensor_noise(seed: int, sensor_id: int, k: int, hour: int) -> np.ndarray:
    """One hour of per-second noise and the odd spike, the same whatever range asks for it."""
    noise_sd, spike = SENSORS[k][5], SENSORS[k][6]
    rng = _rng(seed, 3, sensor_id, hour)
    value = rng.normal(0, noise_sd, 3600)
    spikes = rng.random(3600) < 2e-4
    value[spikes] += spike * rng.uniform(0.6, 1.4, spikes.sum())
    return value


def _day(ts: pd.Timestamp) -> int:
    return int((ts - EPOCH) // DAY)


def _hour(ts: pd.Timestamp) -> int:
    return int((ts - EPOCH) // pd.Timedelta(hours=1))


class Inventory:
    """Stock per plant and material, stepped hour by hour under a reorder-point policy: consumption follows the
    shift calendar and averages the policy's daily use; when stock on hand plus on order falls to the reorder point
    an order is placed, and it arrives after the lead time (later from an unreliable supplier)."""

    def __init__(self, topo: Topology, on_hand: dict[tuple[str, str], float] | None = None) -> None:
        self.topo = topo
        self.on_hand: dict[tuple[str, str], float] = {}
        self.pending: dict[tuple[str, str], list[tuple[int, float]]] = {}
        self._due_in: dict[tuple[str, str], float] = {}  # hours until a starting order arrives, set on first step
        for i, plant in enumerate(topo.plants):
            for k, (mat, *_) in enumerate(MATERIALS):
                reorder, safety, lead, daily, _ = _policy(topo.seed, i, k)
                # Each material starts at its own point of a steady order cycle: stock between the safety stock and
                # a fresh delivery on top of it; below the reorder point an order is already on its way, due when
                # stock would reach the safety stock. Starting every material just above its reorder point made
                # them all run low together in the demo's first weeks.
                key, q = (plant.plant_id, mat), order_quantity(daily, lead)
                start = safety + q * ((0.13 + 0.61 * (i * len(MATERIALS) + k)) % 1)
                self.on_hand[key] = float(round(start, 0))
                self.pending[key] = []
                if start <= reorder:
                    self._due_in[key] = (start - safety) / daily * 24
        if on_hand:  # resuming from the database: its stock, and no orders we cannot know about
            self.on_hand.update(on_hand)
            self._due_in.clear()

    def step(self, hour: int) -> tuple[list[tuple], list[tuple]]:
        """Movements and level snapshots for one hour (hours since the epoch)."""
        ts = EPOCH + pd.Timedelta(hours=hour)
        moves, levels = [], []
        for key, hours in self._due_in.items():
            reorder, _, lead, daily, _ = _policy(self.topo.seed, *self._index(key))
            self.pending[key].append((hour + int(round(hours)), order_quantity(daily, lead)))
        self._due_in.clear()
        for i, plant in enumerate(self.topo.plants):
            busy = planned_minutes(plant, pd.DatetimeIndex([ts + pd.Timedelta(minutes=30)]))[0] > 0
            share = busy_share(plant)
            # 90 % of the use falls in planned hours, 10 % outside them; over a week it averages the daily use.
            per_hour = 7 * (0.9 / max(share, 1e-9) if busy else 0.1 / max(1 - share, 1e-9)) / 168
            for k, (mat, *_) in enumerate(MATERIALS):
                key = (plant.plant_id, mat)
                reorder, _, lead, daily, delay = _policy(self.topo.seed, i, k)
                rng = _rng(self.topo.seed, 5, i, k, hour)
                arrived = sum(q for h, q in self.pending[key] if h <= hour)
                self.pending[key] = [(h, q) for h, q in self.pending[key] if h > hour]
                if arrived:
                    self.on_hand[key] += arrived
                    moves.append((plant.plant_id, mat, ts, "receipt", arrived))
                want = daily * per_hour * rng.lognormal(-(0.25**2) / 2, 0.25)  # mean 1: no drift from the daily use
                used = float(round(min(want, self.on_hand[key]), 2))
                if used > 0:
                    self.on_hand[key] = round(self.on_hand[key] - used, 2)
                    moves.append((plant.plant_id, mat, ts, "consumption", used))
                on_order = sum(q for _, q in self.pending[key])
                if self.on_hand[key] + on_order <= reorder:
                    arrival = hour + int(round(lead * 24 * rng.uniform(1.0, delay)))
                    self.pending[key].append((arrival, order_quantity(daily, lead)))
                levels.append((plant.plant_id, mat, ts + pd.Timedelta(hours=1), self.on_hand[key]))
        return moves, levels

    def _index(self, key: tuple[str, str]) -> tuple[int, int]:
        plants = [p.plant_id for p in self.topo.plants]
        return plants.index(key[0]), [m[0] for m in MATERIALS].index(key[1])

    def run(self, start: pd.Timestamp, end: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Step every whole hour in [start, end); return (movements, levels)."""
        moves, levels = [], []
        for hour in range(_hour(start.ceil("h")), _hour(end)):
            m, lv = self.step(hour)
            moves += m
            levels += lv
        return (
            pd.DataFrame(moves, columns=["plant_id", "material_id", "ts", "kind", "qty"]),
            pd.DataFrame(levels, columns=["plant_id", "material_id", "ts", "on_hand"]),
        )
