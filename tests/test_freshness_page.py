"""A correction to a cached historic day reaches /oee in Chromium at the next refreshes, not after CACHE_TIMEOUT."""

from __future__ import annotations

import pytest

from dashboard.sources import importer
from tests.conftest import AppProcess, known_database
from tests.test_pages import DAYS, _chart

pytestmark = pytest.mark.browser
REFRESH = 3


def test_corrected_yesterday_shows_on_oee_without_waiting_for_the_cache(pg_admin_url, page, tmp_path):
    with known_database(pg_admin_url) as engine:
        app = AppProcess(
            engine.url.render_as_string(hide_password=False), REFRESH_SECONDS=str(REFRESH), CACHE_TIMEOUT="3600"
        )
        try:
            page.goto(app.url + "/oee" + DAYS)
            assert {t["name"]: t["y"] for t in _chart(page, "oee-groups")}["OEE"] == pytest.approx([0.5, 0.65])
            # Berlin 23:30-24:00 on the 14th (tests/known.py) really had 8 good of 20 a minute, not 18:
            # (30 x 8 x 2 s + 720 s) / 3600 s planned = 1/3.
            rows = ["machine_id,ts,planned_s,run_s,total_count,good_count,ideal_cycle_s"] + [
                f"B1,2026-01-14T22:{30 + i}:00Z,60,50,20,8,2.0" for i in range(30)
            ]
            (tmp_path / "fix.csv").write_text("\n".join(rows) + "\n")
            result = importer.import_file(engine, tmp_path / "fix.csv", user="test")
            assert (result.status, result.counts.changed) == ("done", 30)
            # The app's rollup refresh, one generation read and the page's next refresh: a few intervals at most,
            # where the cached answer would otherwise stay for CACHE_TIMEOUT (an hour here).
            page.wait_for_function(
                "(() => { const g = document.querySelector('#oee-groups .js-plotly-plot');"
                " const t = g && g._fullData && g._fullData.find(t => t.name === 'OEE');"
                " return t && Math.abs(t.y[0] - 1/3) < 1e-9; })()",
                timeout=4 * REFRESH * 1000,
            )
        finally:
            app.stop()
