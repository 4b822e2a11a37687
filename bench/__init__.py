"""Benchmarks that print figures and end with one JSON line: `python -m bench.NAME`."""

from __future__ import annotations

import importlib.util
import sys

INSTALL = ".venv/bin/pip install -r requirements-dev.txt"
# Benchmarks drive the app with the test suite's own helpers (pytest fixtures, Playwright, locust), which the
# demo's install (requirements.txt only) leaves out: say the one command that adds them instead of an ImportError.
NEEDED = ("pytest", "playwright", "locust")


def _missing() -> list[str]:
    out = []
    for name in NEEDED:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            out.append(name)
    return out


if missing := _missing():
    sys.exit(f"error: the benchmarks need {', '.join(missing)} from requirements-dev.txt; install it with: {INSTALL}")
