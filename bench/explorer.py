"""Explorer zoom on a 10-million-point series: our stateless server-side reduction against plotly-resampler
(FigureResampler, same output size, same data, same windows, in the same run) and a naive full-resolution figure.

Reports per-zoom callback time (median, p95) and bytes sent, for our zooms with an empty tile cache (every tile read
from the database), the same zooms again (tiles shared across sessions), the same zooms in another worker (its memory
empty, tiles from Redis), and new random zooms after those. plotly-resampler needs plotly < 7, so it runs in its own
venv (.venv-resampler, created on first use from bench/requirements-resampler.txt).
Usage: python -m bench.explorer [--points 10000000] [--width 1200] [--zooms 100] [--database NAME]
(--database keeps the loaded database under NAME and reuses it on the next run, e.g. to open it in the app.)
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import redis
import sqlalchemy as sa
from dash import Patch
from flask import Flask

from bench.common import ROOT, report, scratch_database
from dashboard import explorer, figures_explorer, ingest, queries, rollups, tiles
from dashboard.config import Settings

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_series(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """1 Hz readings with drift, noise, spikes and a few stops (gaps), as epoch ms and values."""
    rng = np.random.default_rng(seed)
    x = T0.timestamp() * 1000 + np.arange(n, dtype=np.int64) * 1000
    for _ in range(20):  # stops of 10 minutes to 6 hours
        at = rng.integers(0, n - 1)
        x[at:] += int(rng.integers(600, 21600)) * 1000
    t = np.arange(n) / 86400
    y = 55 + 6 * np.sin(2 * np.pi * t) + 3 * np.sin(2 * np.pi * t / 9.3) + rng.normal(0, 0.4, n)
    spikes = rng.random(n) < 2e-5
    y[spikes] += rng.uniform(15, 30, spikes.sum())
    return x.astype(np.int64), np.round(y, 3)


def load(engine, x: np.ndarray, y: np.ndarray) -> None:  # noqa: ANN001
    """COPY straight into telemetry (the ingest path's upsert is not what is measured here), then roll up."""
    with engine.begin() as conn:
        for table, frame in (
            ("plant", pd.DataFrame([("P", "Plant", "Etc/UTC")], columns=["plant_id", "name", "tz"])),
            ("line", pd.DataFrame([("L", "P", "Line")], columns=["line_id", "plant_id", "name"])),
            (
                "machine",
                pd.DataFrame([("M", "L", "M", 1.0)], columns=["machine_id", "line_id", "name", "ideal_cycle_s"]),
            ),
            (
                "sensor",
                pd.DataFrame(
                    [(1, "M", "temperature", "°C", None, 80.0)],
                    columns=["sensor_id", "machine_id", "kind", "unit", "lo_limit", "hi_limit"],
                ),
            ),
        ):
            ingest.upsert(conn, table, frame)
    raw = engine.raw_connection()
    cur = raw.cursor()
    step = 1_000_000
    for i in range(0, len(x), step):
        ts = np.datetime_as_string(x[i : i + step].astype("datetime64[ms]"), unit="ms")
        buf = io.StringIO("".join(f"1,{t}+00,{v}\n" for t, v in zip(ts, y[i : i + step], strict=True)))
        cur.copy_expert("copy telemetry (sensor_id, ts, value) from stdin with (format csv)", buf)
    raw.commit()
    raw.close()
    rollups.refresh(engine)


def _loaded(engine) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(sa.text("select count(*) from telemetry")).scalar()


def windows(x: np.ndarray, zooms: int, seed: int = 3) -> list[tuple[int, int]]:
    """A year-to-seconds sequence, then random zooms of every size."""
    lo, hi = int(x[0]), int(x[-1])
    seq = [(lo, hi)]
    centre = lo + (hi - lo) // 3
    for span in (7 * 86400_000, 86400_000, 3600_000, 600_000):
        seq.append((centre - span // 2, centre + span // 2))
    rng = np.random.default_rng(seed)
    for _ in range(zooms):
        span = int(10 ** rng.uniform(5.5, np.log10(hi - lo)))
        a = int(rng.integers(lo, max(lo + 1, hi - span)))
        seq.append((a, a + span))
    return seq


def ours(engine, sensor: dict, wins, width: int) -> list[tuple[float, int, str]]:  # noqa: ANN001
    """(ms, bytes, label) per zoom: the zoom callback's work, from the window to the Patch's JSON."""
    out = []
    for a, b in wins:
        t = time.perf_counter()
        start, end = (datetime.fromtimestamp(v / 1000, tz=UTC) for v in (a, b))
        s = explorer.series(engine, sensor, start, end, width)
        p = Patch()
        figures_explorer.patch(p, 0, figures_explorer.trace_values(s, "Etc/UTC"), sensor["kind"])
        body = pio.json.to_json_plotly(p.to_plotly_json())
        out.append(((time.perf_counter() - t) * 1000, len(body.encode()), s.label))
    return out


def _stats(times: list[float], sizes: list[int]) -> tuple[float, float, float]:
    return statistics.median(times), float(np.percentile(times, 95)), statistics.median(sizes)


def resampler(x: np.ndarray, y: np.ndarray, wins, n_out: int, tmp: Path) -> dict:
    venv = ROOT / ".venv-resampler"
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "-r",
                str(ROOT / "bench" / "requirements-resampler.txt"),
            ],
            check=True,
        )
    np.save(tmp / "series.npy", np.vstack([x.astype(np.float64), y]))
    iso = [[pd.Timestamp(a, unit="ms").isoformat(), pd.Timestamp(b, unit="ms").isoformat()] for a, b in wins]
    (tmp / "windows.json").write_text(json.dumps(iso))
    out = subprocess.run(
        [
            str(venv / "bin" / "python"),
            str(ROOT / "bench" / "resampler_worker.py"),
            str(tmp / "series.npy"),
            str(tmp / "windows.json"),
            str(n_out),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def naive(x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    t = time.perf_counter()
    fig = go.Figure(go.Scattergl(x=pd.to_datetime(x, unit="ms"), y=y))
    body = fig.to_json()
    return time.perf_counter() - t, len(body.encode())


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--points", type=int, default=10_000_000)
    p.add_argument("--width", type=int, default=1200)
    p.add_argument("--zooms", type=int, default=100)
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/12", help="the tiles' shared cache (flushed)")
    p.add_argument("--database", help="keep the loaded series in this database and reuse it when it exists")
    a = p.parse_args()
    n_out = 2 * a.width
    x, y = make_series(a.points)
    wins = windows(x, a.zooms)
    tmp = Path(ROOT / ".data" / "bench-explorer")
    tmp.mkdir(parents=True, exist_ok=True)
    with scratch_database(name=a.database) as engine:
        t = time.perf_counter()
        if _loaded(engine) != a.points:
            load(engine, x, y)
            print(f"loaded {a.points:,} readings and rolled them up in {time.perf_counter() - t:.0f} s")
        sensor = queries.sensors(engine).iloc[0].to_dict()
        redis.Redis.from_url(a.redis_url).flushdb()
        shared = tiles.shared_store(Flask("bench"), Settings(redis_url=a.redis_url))
        tiles.TILES.configure(128 * 2**20, 3600, 5, shared)
        cold = ours(engine, sensor, wins, a.width)  # every tile read from the database on first touch
        warm = ours(engine, sensor, wins, a.width)  # the same zooms again, from any session: tiles are shared
        tile_mb = tiles.TILES.nbytes / 2**20
        tiles.TILES.clear()  # another worker: its own memory is empty, Redis holds what the first one read
        other = ours(engine, sensor, wins, a.width)
        fresh = ours(engine, sensor, windows(x, a.zooms, seed=11)[5:], a.width)  # new random zooms after those
    r = resampler(x, y, wins, n_out, tmp)
    n_s, n_bytes = naive(x, y)
    print("zoom sequence (ours, cold): " + ", ".join(f"{t:.0f} ms {lab}" for t, _, lab in cold[:5]))
    rows = {
        "ours, tiles cold": cold,
        "ours, same zooms again": warm,
        "ours, another worker": other,
        "ours, new random zooms": fresh,
    }
    stats = {k: _stats([t for t, _, _ in v], [b for _, b, _ in v]) for k, v in rows.items()}
    stats["plotly-resampler"] = (r["median_ms"], r["p95_ms"], r["median_bytes"])
    for k, (med, p95, size) in stats.items():
        print(f"{k:<24} per zoom median {med:6.1f} ms  p95 {p95:6.1f} ms  median {size:>9,.0f} B")
    print(
        f"memory: ours {tile_mb:.0f} MB of tiles in one process, shared by every session (bounded by "
        f"TILE_CACHE_MB); plotly-resampler {x.nbytes * 2 / 2**20:.0f} MB of series per session, figure built in "
        f"{r['build_s']:.1f} s"
    )
    print(f"naive full figure {n_s * 1000:8.0f} ms once, {n_bytes:,} B")
    base = stats["plotly-resampler"]
    figures = [
        dict(
            name=f"{what}_{k}",
            value=round(v, 1),
            unit=unit,
            compared_to="plotly-resampler",
            baseline=round(b, 1),
            ratio=round(v / b, 2),
        )
        for k, s in (
            ("cold", stats["ours, tiles cold"]),
            ("warm", stats["ours, same zooms again"]),
            ("other_worker", stats["ours, another worker"]),
            ("new_zooms", stats["ours, new random zooms"]),
        )
        for what, v, b, unit in (
            ("zoom_median_ms", s[0], base[0], "ms"),
            ("zoom_p95_ms", s[1], base[1], "ms"),
            ("zoom_median_bytes", s[2], base[2], "bytes"),
        )
    ]
    figures.append(
        dict(
            name="naive_full_figure_bytes",
            value=n_bytes,
            unit="bytes",
            compared_to="ours per zoom",
            baseline=int(stats["ours, tiles cold"][2]),
            ratio=round(n_bytes / stats["ours, tiles cold"][2], 1),
        )
    )
    report("explorer", figures)


if __name__ == "__main__":
    main()
