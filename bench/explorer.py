"""Explorer zoom on a 10-million-point series: our stateless server-side reduction against plotly-resampler
(FigureResampler, same output size, same data, same windows, in the same run) and a naive full-resolution figure.

Reports per-zoom callback time (median, p95) and bytes sent. plotly-resampler needs plotly < 7, so it runs in its own
venv (.venv-resampler, created on first use from bench/requirements-resampler.txt).
Usage: python -m bench.explorer [--points 10000000] [--width 1200] [--zooms 30]
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
from dash import Patch

from bench.common import ROOT, report, scratch_database
from dashboard import explorer, figures_explorer, ingest, queries, rollups

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


def ours(engine, sensor: dict, wins, width: int) -> tuple[list[float], list[int], list[str]]:  # noqa: ANN001
    times, sizes, labels = [], [], []
    for a, b in wins:
        t = time.perf_counter()
        start, end = (datetime.fromtimestamp(v / 1000, tz=UTC) for v in (a, b))
        s = explorer.series(engine, sensor, start, end, width)
        p = Patch()
        for k, values in enumerate(figures_explorer.trace_values(s, "Etc/UTC")):
            p["data"][k]["x"], p["data"][k]["y"] = values["x"], values["y"]
        body = pio.json.to_json_plotly(p.to_plotly_json())
        times.append((time.perf_counter() - t) * 1000)
        sizes.append(len(body.encode()))
        labels.append(s.label)
    return times, sizes, labels


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
    p.add_argument("--zooms", type=int, default=30)
    a = p.parse_args()
    n_out = 2 * a.width
    x, y = make_series(a.points)
    wins = windows(x, a.zooms)
    tmp = Path(ROOT / ".data" / "bench-explorer")
    tmp.mkdir(parents=True, exist_ok=True)
    with scratch_database() as engine:
        t = time.perf_counter()
        load(engine, x, y)
        print(f"loaded {a.points:,} readings and rolled them up in {time.perf_counter() - t:.0f} s")
        sensor = queries.sensors(engine).iloc[0].to_dict()
        ours(engine, sensor, wins[:3], a.width)  # warm the server's buffers, as a running app would be
        o_times, o_sizes, labels = ours(engine, sensor, wins, a.width)
    r = resampler(x, y, wins, n_out, tmp)
    n_s, n_bytes = naive(x, y)
    o_med, o_p95 = statistics.median(o_times), float(np.percentile(o_times, 95))
    print(
        "zoom sequence (ours): "
        + ", ".join(f"{t:.0f} ms {lab}" for t, lab in zip(o_times[:5], labels[:5], strict=True))
    )
    print(
        f"ours              per zoom median {o_med:6.1f} ms  p95 {o_p95:6.1f} ms  median {statistics.median(o_sizes):>9,.0f} B"
        f"  (no per-session state)"
    )
    print(
        f"plotly-resampler  per zoom median {r['median_ms']:6.1f} ms  p95 {r['p95_ms']:6.1f} ms  median {r['median_bytes']:>9,.0f} B"
        f"  (figure built in {r['build_s']:.1f} s and held in memory per session)"
    )
    print(f"naive full figure {n_s * 1000:8.0f} ms once, {n_bytes:,} B")
    figures = [
        dict(
            name="zoom_median_ms",
            value=round(o_med, 1),
            unit="ms",
            compared_to="plotly-resampler",
            baseline=round(r["median_ms"], 1),
            ratio=round(o_med / r["median_ms"], 2),
        ),
        dict(
            name="zoom_p95_ms",
            value=round(o_p95, 1),
            unit="ms",
            compared_to="plotly-resampler",
            baseline=round(r["p95_ms"], 1),
            ratio=round(o_p95 / r["p95_ms"], 2),
        ),
        dict(
            name="zoom_median_bytes",
            value=int(statistics.median(o_sizes)),
            unit="bytes",
            compared_to="plotly-resampler",
            baseline=int(r["median_bytes"]),
            ratio=round(statistics.median(o_sizes) / r["median_bytes"], 2),
        ),
        dict(
            name="naive_full_figure_bytes",
            value=n_bytes,
            unit="bytes",
            compared_to="ours per zoom",
            baseline=int(statistics.median(o_sizes)),
            ratio=round(n_bytes / statistics.median(o_sizes), 1),
        ),
    ]
    report("explorer", figures)


if __name__ == "__main__":
    main()
