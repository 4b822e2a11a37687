"""Runs inside .venv-resampler: plotly-resampler's zoom on the same series and windows, timed the same way.

Reads the series (.npy, epoch ms and values) and the windows (JSON) given on the command line; prints one JSON line.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly_resampler import FigureResampler


def main() -> None:
    data, windows_file, n_out = sys.argv[1], sys.argv[2], int(sys.argv[3])
    arr = np.load(data)
    x = pd.to_datetime(arr[0].astype("int64"), unit="ms")
    y = arr[1]
    windows = json.loads(open(windows_file).read())  # noqa: SIM115
    t = time.perf_counter()
    fig = FigureResampler(go.Figure(), default_n_shown_samples=n_out)
    fig.add_trace(go.Scattergl(name="sensor"), hf_x=x, hf_y=y)
    build_s = time.perf_counter() - t
    times, sizes = [], []
    for a, b in windows:
        relayout = {"xaxis.range[0]": a, "xaxis.range[1]": b}
        t = time.perf_counter()
        patch = fig.construct_update_data_patch(relayout)  # what its Dash callback returns
        body = pio.json.to_json_plotly(patch.to_plotly_json()).encode()
        times.append((time.perf_counter() - t) * 1000)
        sizes.append(len(body))
    print(
        json.dumps(
            {
                "build_s": build_s,
                "times_ms": times,
                "bytes": sizes,
                "median_ms": statistics.median(times),
                "p95_ms": float(np.percentile(times, 95)),
                "median_bytes": statistics.median(sizes),
            }
        )
    )


if __name__ == "__main__":
    main()
