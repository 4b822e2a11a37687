"""Backfill throughput: 30 days x 40 machines through the simulator into a fresh database, rows per second.

Baseline in the same run: one day of production rows written row by row (executemany INSERT ... ON CONFLICT)
against the same rows through ingest.upsert (COPY into a staging table, one set-based upsert).
Usage: python -m bench.backfill [--days 30] [--machines 40] [--timescale]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import sqlalchemy as sa

from bench.common import report, scratch_database, timed
from dashboard import ingest, simulator
from dashboard.simulate import Feed


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--machines", type=int, default=40)
    p.add_argument("--timescale", action="store_true", help="on TimescaleDB hypertables")
    a = p.parse_args()
    end = pd.Timestamp("2026-06-30 00:00", tz="UTC")
    start = end - pd.Timedelta(days=a.days)
    topo = simulator.topology(42, 3, a.machines)
    figures = []
    with scratch_database(timescale=a.timescale or False) as engine:
        feed = Feed(engine, topo, hf_hours=1, step_s=300)
        t = time.perf_counter()
        feed.backfill(start, end)
        took = time.perf_counter() - t
        rows = sum(feed.written.values())
        print(f"backfill {a.days} d x {a.machines} machines: {rows:,} rows in {took:.1f} s = {rows / took:,.0f} rows/s")
        for table, n in sorted(feed.written.items()):
            print(f"  {table:20s} {n:>12,}")
        figures.append(
            dict(
                name="backfill_rows_per_s",
                value=round(rows / took),
                unit="rows/s",
                compared_to=None,
                rows=rows,
                seconds=round(took, 2),
            )
        )

        # Write path alone, one day of production rows, COPY+upsert vs executemany, on a fresh day.
        day = end + pd.Timedelta(days=1)
        frame = pd.concat([simulator.production_rows(42, m, day, day + pd.Timedelta(days=1)) for m in topo.machines])

        def copy_upsert() -> None:
            with engine.begin() as conn:
                ingest.upsert(conn, "production", frame)
                conn.execute(sa.text("delete from production where ts >= :d"), {"d": day})

        def row_by_row() -> None:
            cols = ingest.TABLES["production"].columns
            sql = sa.text(
                f"insert into production ({', '.join(cols)}) values ({', '.join(':' + c for c in cols)})"
                " on conflict (machine_id, ts) do nothing"
            )
            with engine.begin() as conn:
                conn.execute(sql, frame.to_dict("records"))
                conn.execute(sa.text("delete from production where ts >= :d"), {"d": day})

        copy_s, _ = timed(copy_upsert, 3)
        rbr_s, _ = timed(row_by_row, 3)
        n = len(frame)
        print(
            f"write {n:,} production rows: COPY+upsert {n / copy_s:,.0f} rows/s (median of 3), "
            f"row-by-row {n / rbr_s:,.0f} rows/s, ratio {rbr_s / copy_s:.1f}x"
        )
        figures.append(
            dict(
                name="copy_upsert_rows_per_s",
                value=round(n / copy_s),
                unit="rows/s",
                compared_to="executemany insert",
                baseline=round(n / rbr_s),
                ratio=round(rbr_s / copy_s, 2),
            )
        )
    report("backfill", figures)


if __name__ == "__main__":
    main()
