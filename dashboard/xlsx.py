"""Excel downloads of what each chart shows: typed cells, units in headers, local times, and a sheet naming the view."""

from __future__ import annotations

import base64
import io
import math
import re
from datetime import date, datetime

import pandas as pd
import xlsxwriter

from dashboard import analytics, exports, viewstate
from dashboard.viewstate import PRESETS, View, window

# Number formats chosen from the unit a header names: Excel keeps the value, the format only shows it.
FORMATS = [
    (re.compile(r"\(%\)$"), "0.00"),
    (re.compile(r"\(\$\)$"), "$#,##0.00"),
    (re.compile(r"\((h|d)\)$"), "#,##0.00"),
    (re.compile(r"\((units|count)\)$"), "#,##0"),
]
DATE_FMT, TIME_FMT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm"
MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _local(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Excel has no time zones: zone-aware columns become naive times in ``tz``, and their header names the zone."""
    out = {}
    for col in frame.columns:
        s = frame[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert(tz).dt.tz_localize(None)
            col = re.sub(r"\(UTC\)$", f"({tz})", col) if "(UTC)" in col else f"{col} ({tz})"
        out[col] = s
    return pd.DataFrame(out)


def _number_format(header: str) -> str | None:
    return next((fmt for pattern, fmt in FORMATS if pattern.search(header)), None)


def _write_cell(ws, row: int, col: int, value: object, fmts: dict, num_fmt) -> None:  # noqa: ANN001
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        ws.write_blank(row, col, None)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value)
    elif isinstance(value, pd.Timestamp | datetime):
        ws.write_datetime(row, col, pd.Timestamp(value).to_pydatetime(), fmts["time"])
    elif isinstance(value, date):
        ws.write_datetime(row, col, datetime(value.year, value.month, value.day), fmts["date"])
    elif isinstance(value, int | float):
        ws.write_number(row, col, float(value), num_fmt)
    else:
        ws.write_string(row, col, str(value))


def _data_sheet(wb, frame: pd.DataFrame, fmts: dict) -> None:  # noqa: ANN001
    ws = wb.add_worksheet("Data")
    for c, header in enumerate(frame.columns):
        ws.write_string(0, c, str(header), fmts["head"])
        ws.set_column(c, c, max(12, min(40, len(str(header)) + 2)))
        num_fmt = wb.add_format({"num_format": f}) if (f := _number_format(str(header))) else None
        for r, value in enumerate(frame[header].tolist(), start=1):
            _write_cell(ws, r, c, value.item() if hasattr(value, "item") else value, fmts, num_fmt)
    ws.freeze_panes(1, 0)
    if len(frame.columns):
        ws.autofilter(0, 0, max(1, len(frame)), len(frame.columns) - 1)


def view_rows(view: View, at: datetime, title: str, tz: str) -> list[tuple[str, object]]:
    """What the 'View' sheet says: the chart, the filters, the range and zone, and when the file was made."""
    start, end = window(view, tz, at)
    local = lambda t: pd.Timestamp(t).tz_convert(tz).tz_localize(None).to_pydatetime()  # noqa: E731
    return [
        ("Chart", title),
        ("Range", PRESETS.get(view.preset, view.preset)),
        (f"From ({tz})", local(start)),
        (f"To ({tz})", local(end)),
        ("Time zone", tz),
        ("Plants", ", ".join(view.plants) or "all you may see"),
        ("Lines", ", ".join(view.lines) or "all"),
        ("Machines", ", ".join(view.machines) or "all"),
        ("Grouping", viewstate.GROUPS.get(view.group, view.group)),
        ("Link", view.query().replace("?", "#", 1)),
        (f"Made at ({tz})", local(at)),
        ("Made at (UTC)", pd.Timestamp(at).tz_convert("UTC").tz_localize(None).to_pydatetime()),
    ]


def workbook(name: str, view: View, at: datetime, **extra: str | None) -> tuple[str, bytes]:
    """(file name, .xlsx bytes) for chart ``name`` in ``view``; unknown names raise KeyError."""
    frame = exports.EXPORTS[name](view, at, **extra)
    tz = analytics.display_tz(view)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    fmts = {
        "head": wb.add_format({"bold": True, "bottom": 1}),
        "date": wb.add_format({"num_format": DATE_FMT}),
        "time": wb.add_format({"num_format": TIME_FMT}),
    }
    _data_sheet(wb, _local(frame, tz), fmts)
    ws = wb.add_worksheet("View")
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 48)
    for r, (key, value) in enumerate(view_rows(view, at, name, tz)):
        ws.write_string(r, 0, key, fmts["head"])
        _write_cell(ws, r, 1, value, fmts, None)
    wb.close()
    return f"{name}-{at:%Y%m%d-%H%M}.xlsx", buf.getvalue()


def download(triggered: object, view_data: dict | None, **extra: str | None) -> dict | None:
    """What dcc.Download needs for the XLSX button that was pressed, or None when none was."""
    if not isinstance(triggered, dict) or view_data is None:
        return None
    extra = extra if triggered["chart"] == "inv-levels" else {}
    name, blob = workbook(triggered["chart"], viewstate.from_store(view_data), analytics.now(), **extra)
    return dict(content=base64.b64encode(blob).decode(), filename=name, base64=True, type=MIME)

