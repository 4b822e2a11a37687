"""A benchmark run where only requirements.txt is installed (the demo's venv) says the one command that adds
what it lacks, in one line, instead of an ImportError traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

HIDE = "import runpy, sys; [sys.modules.__setitem__(m, None) for m in sys.argv[2:]]; runpy.run_module(sys.argv[1], run_name='__main__', alter_sys=True)"


@pytest.mark.parametrize(
    ("bench", "lacking"),
    [("bench.auth", ["pytest"]), ("bench.pageload", ["playwright"]), ("bench.load", ["locust", "playwright"])],
)
def test_a_bench_without_the_dev_packages_says_how_to_install_them(bench, lacking):
    done = subprocess.run(
        [sys.executable, "-c", HIDE, bench, *lacking], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode != 0
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: the benchmarks need ")
    assert all(name in line for name in lacking)
    assert line.endswith("install it with: .venv/bin/pip install -r requirements-dev.txt")


def test_the_readme_gives_that_command_before_the_benchmarks():
    readme = (ROOT / "README.md").read_text()
    bench = readme.index("## Benchmarks")
    assert ".venv/bin/pip install -r requirements-dev.txt" in readme[bench : bench + 600]
