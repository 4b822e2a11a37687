"""Backfill and stream simulated plant data: `python -m dashboard.simulate --help`."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from tqdm import tqdm

from dashboard import cli, config, db, ingest, simulator
from dashboard.orders import simulate as order_sim
from dashboard.simulator import Topology

log = logging.getLogger(__name__)


@dataclass
class Feed:
    """What the simulator writes, and how far it has got."""

    engine: Engine
    topo: Topology
    hf_hours: float = 1.0  # the most recent hours get 1 Hz telemetry; older ones every step_s
    step_s: int = 300
    sensors: int | None = None
    written: Counter = field(default_factory=Counter)
    inventory: simulator.Inventory | None = None
    orders_at: pd.Timestamp | None = None  # when the live feed last wrote orders

    def dimensions(self) -> None:
        with self.engine.begin() as conn:
            for table, frame in simulator.dimensions(self.topo).items():
                self.written[table] += ingest.upsert(conn, table, frame)

    def window(self, start: pd.Timestamp, end: pd.Timestamp, hf_from: pd.Timestamp, stock: bool = True) -> None:
        """Everything that happened in [start, end), in one transaction; ``stock=False`` leaves out inventory,
        which is stepped hour after hour in time order and so cannot be written out of order."""
        seed = self.topo.seed
        prod = [simulator.production_rows(seed, m, start, end) for m in self.topo.machines]
        down = [simulator.downtime_rows(seed, m, start, end) for m in self.topo.machines]
        tel = []
        if start < hf_from:
            tel.append(simulator.telemetry_rows(seed, self.topo, start, min(end, hf_from), self.step_s, self.sensors))
        if end > hf_from:
            tel.append(simulator.telemetry_rows(seed, self.topo, max(start, hf_from), end, 1, self.sensors))
        with self.engine.begin() as conn:
            for table, frames in (("production", prod), ("downtime", down), ("telemetry", tel)):
                frames = [f for f in frames if len(f)]
                if frames:
                    self.written[table] += ingest.upsert(conn, table, pd.concat(frames, ignore_index=True))
            if stock:
                self._stock(conn, start, end)
        order_sim.prime(self.topo, start, end)  # each shift's output while its minutes are still cached

    def stock(self, start: pd.Timestamp, end: pd.Timestamp) -> None:
        """Inventory movements and levels for every hour in [start, end), in one transaction."""
        with self.engine.begin() as conn:
            self._stock(conn, start, end)

    def _stock(self, conn: sa.Connection, start: pd.Timestamp, end: pd.Timestamp) -> None:
        if self.inventory is None:
            self.inventory = simulator.Inventory(self.topo)
        moves, levels = self.inventory.run(start, end)
        self.written["inventory_movement"] += ingest.upsert(conn, "inventory_movement", moves)
        self.written["inventory_level"] += ingest.upsert(conn, "inventory_level", levels)

    def orders(self, start: pd.Timestamp, end: pd.Timestamp, shifts_from: pd.Timestamp | None = None) -> None:
        """Production orders as they stand at ``end``, in one transaction (the demo's loader, once its history is in)."""
        with self.engine.begin() as conn:
            self._orders(conn, start, end, shifts_from=shifts_from)

    def _orders(self, conn: sa.Connection, start: pd.Timestamp, end: pd.Timestamp, **kw: pd.Timestamp) -> None:
        """Production orders as they stand at ``end`` (dashboard.orders.simulate), in the same transaction."""
        for table, frame in order_sim.rows(self.topo, start, end, **kw).items():
            self.written[table] += ingest.upsert(conn, table, frame)
        self.orders_at = end

    def backfill(self, start: pd.Timestamp, end: pd.Timestamp, progress: bool = True) -> None:
        """Write [start, end) a day at a time, with a progress bar."""
        self.dimensions()
        hf_from = end - pd.Timedelta(hours=self.hf_hours)
        edges = list(pd.date_range(start, end, freq="D"))
        if edges[-1] < end:
            edges.append(end)
        steps = list(zip(edges[:-1], edges[1:]))
        for a, b in tqdm(steps, desc="backfill", unit="day", disable=not progress, leave=False):
            self.window(a, b, hf_from)
        # Orders once, as they stand at the end: a window at a time would write an order's earlier state again
        # on a re-run, after a later window had moved it on.
        with self.engine.begin() as conn:
            self._orders(conn, start, end, shifts_from=start)

    def stock_resume_point(self) -> pd.Timestamp | None:
        """The end of the last inventory hour in the database, with the stock on hand then; None if there is none."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "select distinct on (plant_id, material_id) plant_id, material_id, on_hand, ts"
                    " from inventory_level order by plant_id, material_id, ts desc"
                )
            ).all()
        if not rows:
            return None
        self.inventory = simulator.Inventory(self.topo, {(p, m): q for p, m, q, _ in rows})
        return max(pd.Timestamp(ts).tz_convert("UTC") for *_, ts in rows)

    def live(
        self,
        start: pd.Timestamp,
        interval: float,
        stop: threading.Event,
        max_ticks: int | None = None,
        between: Callable[[pd.Timestamp], bool] | None = None,
    ) -> None:
        """Every ``interval`` seconds write what happened since the last tick, until ``stop`` is set.

        ``between(written_until)`` runs after each tick; when it did some work (returns True) the next tick
        follows at once, so other work (older history) shares the thread without the live data falling behind."""
        last, ticks = start, 0
        inv_hour = start.floor("h")  # the hour ``start`` falls in has not been stepped yet
        while not stop.is_set() and (max_ticks is None or ticks < max_ticks):
            now = pd.Timestamp.now(tz="UTC").floor("s")
            try:
                self._tick(last, now, inv_hour)
                last, inv_hour = now, max(inv_hour, now.floor("h"))
                busy = between(last) if between else False
            except Exception as exc:  # noqa: BLE001 - the live feed must outlive a database restart
                if stop.is_set():
                    break  # the process is stopping, and its database with it
                log.warning("simulator could not write, will retry: %s", str(exc).strip().splitlines()[0])
                busy = False
            ticks += 1
            if not busy:
                stop.wait(interval)

    def _tick(self, last: pd.Timestamp, now: pd.Timestamp, inv_hour: pd.Timestamp) -> None:
        seed = self.topo.seed
        # Production minutes are written once complete; telemetry up to the second.
        prod = [simulator.production_rows(seed, m, last.floor("min"), now.floor("min")) for m in self.topo.machines]
        down = [simulator.downtime_rows(seed, m, last, now) for m in self.topo.machines]
        tel = simulator.telemetry_rows(seed, self.topo, last, now, 1, self.sensors)
        moves, levels = self.inventory.run(inv_hour, now.floor("h")) if self.inventory else ([], [])
        with self.engine.begin() as conn:
            for table, frame in (("production", pd.concat(prod)), ("downtime", pd.concat(down)), ("telemetry", tel)):
                if len(frame):
                    self.written[table] += ingest.upsert(conn, table, frame)
            if len(moves):
                ingest.upsert(conn, "inventory_movement", moves)
                ingest.upsert(conn, "inventory_level", levels)
            if self.orders_at is None or now.floor("min") > self.orders_at:  # orders move in minutes, not seconds
                self._orders(conn, self.orders_at or last, now.floor("min"))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    try:
        settings = config.load()
    except config.ConfigError as exc:
        sys.exit(cli.fail(str(exc)))
    p = cli.Parser(description="Backfill simulated plants, then stream live data.")
    p.add_argument("--database-url", help="defaults to $DATABASE_URL, or the embedded demo server")
    p.add_argument("--days", type=int, default=settings.demo_days, help="days of history (default %(default)s)")
    p.add_argument("--plants", type=int, default=settings.demo_plants, help="plants, 1-6 (default %(default)s)")
    p.add_argument("--machines", type=int, default=settings.demo_machines, help="machines in all (default %(default)s)")
    p.add_argument("--seed", type=int, default=settings.demo_seed, help="random seed (default %(default)s)")
    p.add_argument("--end", help="end of the backfill, ISO time with zone (default: now)")
    p.add_argument("--hf-hours", type=float, default=1.0, help="recent hours with 1 Hz telemetry (default 1)")
    p.add_argument("--step", type=int, default=300, help="seconds between older telemetry readings (default 300)")
    p.add_argument("--sensors", type=int, default=3, help="sensors per machine, 1-3 (default 3)")
    p.add_argument("--live", action=argparse.BooleanOptionalAction, default=True, help="stream after the backfill")
    p.add_argument("--interval", type=float, default=5.0, help="seconds between live writes (default 5)")
    args = p.parse_args(argv)
    for name, lo, hi in (
        ("days", 1, 3660),
        ("plants", 1, 6),
        ("machines", 1, 5000),
        ("sensors", 1, 3),
        ("step", 1, 86400),
        ("seed", 0, 2**31 - 1),
    ):
        if not lo <= getattr(args, name) <= hi:
            p.error(f"--{name} must be between {lo} and {hi}, got {getattr(args, name)}")
    if args.machines < args.plants:
        p.error(f"--machines ({args.machines}) must be at least --plants ({args.plants})")
    if not args.interval >= 1:  # also refuses nan
        p.error("--interval must be at least 1 second")
    if not 0 <= args.hf_hours <= 24 * 30:
        p.error(f"--hf-hours must be between 0 and 720, got {args.hf_hours:g}")
    if args.end:
        try:
            args.end = pd.Timestamp(args.end)
        except (ValueError, OverflowError):
            p.error(f"--end is not a time: {args.end!r}")
        if args.end.tzinfo is None:
            p.error("--end needs a time zone, e.g. 2026-01-31T00:00Z")
        args.end = args.end.tz_convert("UTC")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    from dashboard import migrate

    return cli.run(lambda: _run(args), migrate.MigrationError)


def _run(args: argparse.Namespace) -> int:
    from dashboard import migrate

    settings = config.load()
    engine = db.create(cli.database_url(settings, args.database_url), pool_size=2)
    db.check(engine)
    migrate.migrate(engine, want_timescale=settings.timescaledb)
    topo = simulator.topology(args.seed, args.plants, args.machines)
    # Rows only from here on: the writer role may insert and update them, never change the schema.
    feed = Feed(db.writer(engine), topo, hf_hours=args.hf_hours, step_s=args.step, sensors=args.sensors)
    end = args.end or pd.Timestamp.now(tz="UTC").floor("min")
    start = end.floor("D") - pd.Timedelta(days=args.days - 1) if args.days else end
    t0 = time.perf_counter()
    feed.backfill(start, end)
    took = time.perf_counter() - t0
    rows = sum(feed.written.values())
    print(
        f"backfilled {start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} UTC: {rows:,} rows in {took:.1f} s ({rows / took:,.0f} rows/s)"
    )
    for table, n in sorted(feed.written.items()):
        print(f"  {table:20s} {n:>12,}")
    if args.live and not args.end:
        print(f"streaming live data every {args.interval:g} s; Ctrl-C stops", flush=True)
        try:
            feed.live(end, args.interval, threading.Event())
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
