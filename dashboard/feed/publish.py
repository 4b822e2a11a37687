"""The demo's machines on MQTT: the simulator's states, counters and readings published as a plant's would be."""

from __future__ import annotations

import logging
import threading

import paho.mqtt.client as mqtt
import pandas as pd

from dashboard import simulator
from dashboard.feed import messages
from dashboard.feed.messages import Count, Reading, State
from dashboard.feed.subscriber import broker, client
from dashboard.simulator import Machine, Topology

log = logging.getLogger(__name__)
MINOR_S = 60  # the simulator's minor stops are under a minute (idle); breakdowns and setups longer (down)


def topic(m: Machine, signal: str) -> str:
    return f"{messages.ROOT}/{m.plant.plant_id}/{m.line_id}/{m.machine_id}/{signal}"


DAY_MS = 86_400_000


def state_at(seed: int, m: Machine, t: int) -> State:
    """planned_stop outside the simulator's planned minutes (breaks, days off, between shifts), down or idle in
    one of its events, running otherwise."""
    md = simulator.machine_day(seed, m, t // DAY_MS)
    if md.planned[(t % DAY_MS) // 60_000] == 0:
        return State(m.machine_id, t, "planned_stop", "")
    for ev in md.events.itertuples():
        s, e = _ms(ev.start_ts), _ms(ev.end_ts)
        if s <= t < e:
            return State(m.machine_id, t, "idle" if e - s < MINOR_S * 1000 else "down", str(ev.reason_code))
    return State(m.machine_id, t, "running", "")


def edges(seed: int, m: Machine, a: int, b: int) -> list[int]:
    """Times in [a, b) where the state may change: ``a``, minute edges and event edges."""
    out = {a} | set(range(a - a % 60_000 + 60_000, b, 60_000))
    for day in range(a // DAY_MS, (b - 1) // DAY_MS + 1):
        ev = simulator.machine_day(seed, m, day).events
        out |= {_ms(t) for t in ev.start_ts} | {_ms(t) for t in ev.end_ts}
    return sorted(t for t in out if a <= t < b)


def _ms(ts: pd.Timestamp) -> int:
    return int(pd.Timestamp(ts).value // 1_000_000)


class SimPublisher:
    """Publishes what the simulator says happened in each window; counters are cumulative from its start."""

    def __init__(self, url: str, topo: Topology, client_id: str = "plant-dashboards-demo") -> None:
        self.topo = topo
        self.kinds = [k[0] for k in simulator.SENSORS]
        b = broker(url)
        self.client: mqtt.Client = client(b, client_id, clean=False)
        self.client.connect_async(b.host, b.port, keepalive=30)
        self.client.loop_start()
        self.counters = {m.machine_id: [0, 0] for m in topo.machines}
        self.states: dict[str, tuple[str, str]] = {}
        self.sent = 0
        self.last: mqtt.MQTTMessageInfo | None = None

    def window(self, start: pd.Timestamp, end: pd.Timestamp, first: bool = False) -> int:
        """Publish [start, end): state changes, a counter reading at second 59 of each minute, 1 Hz readings."""
        seed, n = self.topo.seed, 0
        for m in self.topo.machines:
            sigs: list = []
            for t in edges(seed, m, _ms(start), _ms(end)):
                st = state_at(seed, m, t)
                if (st.state, st.reason) != self.states.get(m.machine_id):
                    sigs.append(st)
                    self.states[m.machine_id] = (st.state, st.reason)
            c = self.counters[m.machine_id]
            if first:
                sigs.append(Count(m.machine_id, _ms(start), c[0], c[1]))
            rows = simulator.production_rows(seed, m, (start - pd.Timedelta(seconds=59)).floor("min"), end)
            for r in rows.itertuples() if len(rows) else ():
                at = _ms(r.ts) + 59_000
                if _ms(start) <= at < _ms(end):
                    c[0] += int(r.total_count)
                    c[1] += int(r.good_count)
                    sigs.append(Count(m.machine_id, at, c[0], c[1]))
            for s in sigs:
                self._send(topic(m, "state" if isinstance(s, State) else "count"), s)
                n += 1
        tel = simulator.telemetry_rows(seed, self.topo, start, end, 1)
        by_sensor = {sid: (m, k) for sid, m, k in self.topo.sensors()}
        for sid, ts, value in zip(tel.sensor_id, tel.ts, tel.value):
            m, k = by_sensor[int(sid)]
            self._send(topic(m, f"sensors/{self.kinds[k]}"), Reading(m.machine_id, self.kinds[k], _ms(ts), value))
            n += 1
        self.sent += n
        return n

    def _send(self, t: str, sig: State | Count | Reading) -> None:
        self.last = self.client.publish(t, messages.encode(sig), qos=1)

    def wait(self, timeout: float = 30) -> None:
        """Until the broker has the last message sent (QoS 1 flows complete in order on one connection)."""
        if self.last is not None:
            self.last.wait_for_publish(timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def live(self, start: pd.Timestamp, interval: float, stop: threading.Event, on_tick=None) -> None:  # noqa: ANN001
        """Every ``interval`` seconds publish what happened since the last tick, until ``stop`` is set."""
        last, first = start, True
        while not stop.is_set():
            now = pd.Timestamp.now(tz="UTC").floor("s")
            try:
                if now > last:
                    self.window(last, now, first)
                    last, first = now, False
                if on_tick:
                    on_tick(now)
            except Exception as exc:  # noqa: BLE001 - the live demo must outlive a database restart
                log.warning("demo publisher: %s; will retry", str(exc).strip().splitlines()[0])
            stop.wait(interval)
        self.close()
