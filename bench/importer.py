"""Importer throughput against a plain COPY of the same file, and peak memory: `python -m bench.importer`.

Files of --rows rows (default 5 M) for production, telemetry and MB51 are written once into .data/bench-import.
Each side runs --runs times (default 3) in the same database, on an emptied table each time:
  copy:   psycopg2 COPY ... FROM STDIN of the file into the target table (MB51: into a plain table of its columns);
  import: python -m dashboard.importer in its own process (its peak RSS is the memory figure).
The figure is rows/s of import over rows/s of COPY (median of the runs); the spread is max - min over median.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import sqlalchemy as sa

from bench.common import ROOT, report, scratch_database
from dashboard import simulator
from dashboard.sources import apply, mb51, model, topology

DATA = ROOT / ".data" / "bench-import"
MB51_COLS = [
    "Posting Date",
    "Movement Type",
    "Plant",
    "Storage Location",
    "Material",
    "Batch",
    "Qty in Un. of Entry",
    "Unit of Entry",
    "Material Document",
    "Item",
]


def _write(path: Path, make, rows: int, block: int = 1_000_000) -> None:
    """Write a CSV of ``rows`` rows in blocks, so making the file needs no more memory than a block."""
    if path.exists():
        return
    tmp = path.with_suffix(".tmp")
    with pcsv.CSVWriter(tmp, make(0, 1).schema) as w:
        for lo in range(0, rows, block):
            w.write_table(make(lo, min(block, rows - lo)))
    tmp.rename(path)


def telemetry(lo: int, n: int) -> pa.Table:
    sensors = np.array([sid for sid, _, _ in simulator.topology(42, 3, 40).sensors()], dtype=np.int32)
    i = np.arange(lo, lo + n)
    ts = np.datetime64("2025-01-01T00:00:00", "us") + (i // len(sensors)).astype("timedelta64[s]")
    return pa.table(
        {
            "sensor_id": sensors[i % len(sensors)],
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "value": np.round(50 + 10 * np.sin(i / 977.0), 3),
        }
    )


def production(lo: int, n: int) -> pa.Table:
    machines = np.array([m.machine_id for m in simulator.topology(42, 3, 40).machines], dtype=object)
    i = np.arange(lo, lo + n)
    ts = np.datetime64("2025-01-01T00:00:00", "us") + (i // len(machines)).astype("timedelta64[m]")
    total = (i % 7 + 3).astype(np.int64)
    return pa.table(
        {
            "machine_id": pa.array(machines[i % len(machines)], pa.string()),
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "planned_s": np.full(n, 60.0),
            "run_s": 40.0 + (i % 21),
            "total_count": total,
            "good_count": total - (i % 2),
            "startup_rejects": np.zeros(n, dtype=np.int64),
            "ideal_cycle_s": np.full(n, 4.0),
        }
    )


def mb51_lines(lo: int, n: int) -> pa.Table:
    i = np.arange(lo, lo + n)
    types = np.array(list(mb51.MOVEMENTS), dtype=object)
    sign = np.array(
        [-1 if d < 0 or k in ("consumption", "shipment") and d > 0 else 1 for k, d, _ in mb51.MOVEMENTS.values()]
    )
    t = (i * 7919) % len(types)
    day = pd.Timestamp("2025-01-01") + pd.to_timedelta(i % 365, unit="D")
    return pa.table(
        {
            "Posting Date": pa.array(day.strftime("%d.%m.%Y"), pa.string()),
            "Movement Type": pa.array(types[t], pa.string()),
            "Plant": pa.array(np.array(["1000", "2000", "3000"], dtype=object)[i % 3], pa.string()),
            "Storage Location": pa.array(np.where(i % 2, "0001", "0002").astype(object), pa.string()),
            "Material": pa.array(
                np.array([topology.sap_material(k) for k in range(8)], dtype=object)[(i // 3) % 8], pa.string()
            ),
            "Batch": pa.array(np.full(n, "B1", dtype=object), pa.string()),
            "Qty in Un. of Entry": (sign[t] * (1 + i % 50)).astype(np.float64),
            "Unit of Entry": pa.array(
                np.array(["KG", "KG", "KG", "PC", "KG", "PC", "PC", "L"], dtype=object)[(i // 3) % 8], pa.string()
            ),
            "Material Document": pa.array((4_900_000_000 + i).astype(str).astype(object), pa.string()),
            "Item": np.ones(n, dtype=np.int64),
        }
    )


def _copy(engine: sa.Engine, kind: str, path: Path) -> float:
    table = {"telemetry": "telemetry", "production": "production", "mb51": "mb51_copy"}[kind]
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur, open(path, "rb") as f:
            header = f.readline().decode().strip().replace('"', "")
            cols = ", ".join(c if kind != "mb51" else f'"{c}"' for c in header.split(","))
            f.seek(0)
            t = time.perf_counter()
            cur.copy_expert(f"copy {table} ({cols}) from stdin with (format csv, header true)", f)
            raw.commit()
            return time.perf_counter() - t
    finally:
        raw.close()


def _import(url: str, path: Path) -> tuple[float, float, str]:
    """Seconds, peak RSS in MB of the importer's own process, and its summary line."""
    code = (
        "import resource, sys, time\n"
        "from dashboard.sources import importer\nfrom dashboard import db\n"
        f"e = db.create({url!r})\nt = time.perf_counter()\n"
        f"r = importer.import_file(e, {str(path)!r}, user='bench')\n"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, r.summary(), sep='|')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    seconds, rss, summary = out.stdout.strip().splitlines()[-1].split("|", 2)
    return float(seconds), float(rss), summary


def _empty(engine: sa.Engine, kind: str) -> None:
    tables = {
        "telemetry": "telemetry",
        "production": "production",
        "mb51": "mb51_copy, inventory_movement, inventory_level",
    }
    with engine.begin() as conn:
        conn.execute(sa.text(f"truncate {tables[kind]}, rollup_invalidation"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("vacuum analyze"))


def _stats(xs: list[float]) -> dict:
    med = statistics.median(xs)
    return {"median": med, "spread": (max(xs) - min(xs)) / med if med else 0.0, "runs": xs}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=5_000_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--kinds", default="telemetry,production,mb51")
    args = p.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    makers = {"telemetry": telemetry, "production": production, "mb51": mb51_lines}
    files = {}
    for kind in args.kinds.split(","):
        files[kind] = DATA / f"{kind}-{args.rows}.csv"
        t = time.perf_counter()
        _write(files[kind], makers[kind], args.rows)
        print(
            f"{kind}: {files[kind].stat().st_size / 2**20:,.0f} MB file ready ({time.perf_counter() - t:.0f} s)",
            flush=True,
        )
    figures = []
    with scratch_database() as engine:
        apply.apply(engine, model.load(topology.EXAMPLE))
        with engine.begin() as conn:
            conn.execute(sa.text("create table mb51_copy (" + ", ".join(f'"{c}" text' for c in MB51_COLS) + ")"))
        url = engine.url.render_as_string(hide_password=False)
        for kind, path in files.items():
            copy_s, imp_s, rss, summary = [], [], [], ""
            for run in range(args.runs):  # alternate the sides so that neither gets a quieter machine
                _empty(engine, kind)
                copy_s.append(_copy(engine, kind, path))
                _empty(engine, kind)
                s, m, summary = _import(url, path)
                imp_s.append(s)
                rss.append(m)
                print(
                    f"  {kind} run {run + 1}: COPY {copy_s[-1]:.1f} s, import {s:.1f} s, peak {m:.0f} MB | {summary}",
                    flush=True,
                )
            reimport, _, again = _import(url, path)  # everything already there: every row compared, none written
            c, i = _stats([args.rows / x for x in copy_s]), _stats([args.rows / x for x in imp_s])
            ratio = i["median"] / c["median"]
            print(
                f"{kind}: COPY {c['median']:,.0f} rows/s (spread {c['spread']:.0%}), import {i['median']:,.0f} rows/s"
                f" (spread {i['spread']:.0%}) = {ratio:.2f}x COPY; peak memory {max(rss):.0f} MB;"
                f" re-import {args.rows / reimport:,.0f} rows/s ({again.split(': ', 2)[-1]})",
                flush=True,
            )
            figures.append(
                {
                    "kind": kind,
                    "rows": args.rows,
                    "copy_rows_s": c,
                    "import_rows_s": i,
                    "ratio": ratio,
                    "peak_rss_mb": max(rss),
                    "reimport_rows_s": args.rows / reimport,
                }
            )
    report("importer", figures)


if __name__ == "__main__":
    main()
