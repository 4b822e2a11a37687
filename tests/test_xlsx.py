"""Excel downloads read back with openpyxl: real numbers, real local times with the zone in the header, the view."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
from flask import Flask

from dashboard import data, exports, xlsx
from dashboard.config import Settings
from dashboard.viewstate import View
from tests.conftest import AppProcess, known_database
from tests.known import D, load_known, load_stock

DAYS = View("custom", date(2026, 1, 14), date(2026, 1, 15))
AT = D + timedelta(days=3)


@pytest.fixture
def known(db_engine):
    load_known(db_engine)
    load_stock(db_engine, datetime.now(UTC))
    data.init_app(Flask("t"), db_engine, Settings(refresh_seconds=5))
    return db_engine


def _open(name: str, view: View, at: datetime = AT) -> tuple[list[list], dict]:
    filename, blob = xlsx.workbook(name, view, at)
    assert filename.endswith(".xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(blob))
    assert wb.sheetnames == ["Data", "View"]
    rows = [list(r) for r in wb["Data"].iter_rows(values_only=True)]
    return rows, {k: v for k, v in wb["View"].iter_rows(values_only=True)}


def test_oee_by_plant_is_numbers_with_formats(known):
    rows, view = _open("oee-groups", DAYS)
    head = rows[0]
    got = [(r[head.index("Plant")], r[head.index("OEE (%)")], r[head.index("Planned time (h)")]) for r in rows[1:]]
    # By hand (tests/known.py): BER 1800 / 3600 s planned, CCU 3510 / 5400 s.
    assert got == [("BER", 50.0, 1.0), ("CCU", 65.0, 1.5)]
    assert all(isinstance(r[head.index("Good count (units)")], int | float) for r in rows[1:])
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.workbook("oee-groups", DAYS, AT)[1]))
    cell = wb["Data"].cell(row=2, column=head.index("OEE (%)") + 1)
    assert cell.data_type == "n" and cell.number_format == "0.00"
    # Same numbers as the CSV of the same chart.
    csv_frame = exports.EXPORTS["oee-groups"](DAYS, AT)
    assert list(csv_frame["OEE (%)"]) == [r[head.index("OEE (%)")] for r in rows[1:]]


def test_times_are_local_datetimes_named_by_zone(known):
    rows, view = _open("ov-plants", View("custom", date(2026, 1, 14), date(2026, 1, 15), plants=("BER",)))
    head = rows[0]
    assert "Window start (Europe/Berlin)" in head and "Window start (UTC)" not in head
    start = rows[1][head.index("Window start (Europe/Berlin)")]
    assert isinstance(start, datetime) and start == datetime(2026, 1, 14, 0, 0)  # Berlin's midnight, not 23:00 UTC
    assert view["Time zone"] == "Europe/Berlin"
    assert view["From (Europe/Berlin)"] == datetime(2026, 1, 14) and view["To (Europe/Berlin)"] == datetime(2026, 1, 16)
    assert view["Plants"] == "BER" and view["Range"] == "Dates…"
    assert view["Made at (UTC)"] == AT.replace(tzinfo=None)
    assert view["Made at (Europe/Berlin)"] == (AT + timedelta(hours=1)).replace(tzinfo=None)
    assert view["Link"] == "#range=custom&from=2026-01-14&to=2026-01-15&plant=BER"


def test_plant_local_dates_are_dates(known):
    rows, _ = _open("oee-heatmap", DAYS)
    head = rows[0]
    days = {r[head.index("Plant-local date")] for r in rows[1:]}
    assert days == {datetime(2026, 1, 14), datetime(2026, 1, 15)}  # openpyxl reads Excel dates as datetimes


def test_inventory_risk_keeps_booleans_and_money(known):
    rows, view = _open("inv-risk", View("7d"), datetime.now(UTC))
    head = rows[0]
    by = {r[head.index("Material")]: r for r in rows[1:]}
    # tests/known.py load_stock: M1 800 kg at 100 kg/day, $2,000; M2 40 L at 10 L/day, $400, below 50 L.
    assert by["M1"][head.index("Days of cover (d)")] == 8.0 and by["M1"][head.index("Value ($)")] == 2000.0
    assert by["M2"][head.index("Below reorder point")] is True and by["M1"][head.index("Below reorder point")] is False
    assert view["Chart"] == "inv-risk"


@pytest.mark.browser
def test_xlsx_button_downloads_a_workbook(pg_admin_url, page):
    with known_database(pg_admin_url) as engine:
        app = AppProcess(engine.url.render_as_string(hide_password=False), REFRESH_SECONDS="60")
        try:
            page.goto(app.url + "/oee#range=custom&from=2026-01-14&to=2026-01-15")
            page.wait_for_selector("#oee-groups .js-plotly-plot")
            with page.expect_download() as dl:
                page.locator("button", has_text="XLSX").nth(1).click()
            assert dl.value.suggested_filename.startswith("oee-groups-")
            wb = openpyxl.load_workbook(io.BytesIO(dl.value.path().read_bytes()))
            rows = list(wb["Data"].iter_rows(values_only=True))
            oee = rows[0].index("OEE (%)")
            assert [(r[0], r[oee]) for r in rows[1:]] == [("BER", 50.0), ("CCU", 65.0)]
        finally:
            app.stop()
