"""The pure figure builders: what issue 18's screenshots showed wrong, as figure properties that can fail."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard import figures, figures_inventory, figures_oee, theme, viewstate, wall
from dashboard.queries import PARTS


def _annotation(fig, words: str):  # noqa: ANN001, ANN202
    found = [a for a in fig.layout.annotations if words in (a.text or "")]
    assert found, f"no annotation with {words!r}: {[a.text for a in fig.layout.annotations]}"
    return found[0]


def _per_plant() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "plant_id": ["A", "B"],
            "name": ["Alpha", "Beta"],
            "planned_s": [100.0, 100.0],
            "oee": [0.8, 0.9],
            "availability": [0.9, 0.95],
            "performance": [0.9, 0.95],
            "quality": [0.99, 0.99],
        }
    )


def test_overview_target_label_sits_outside_the_bars():
    """It was drawn at the right end of the line, over the Quality bars: now in the right margin, beyond x=1."""
    fig = figures.plants_side_by_side(_per_plant(), 0.85)
    label = _annotation(fig, "OEE target")
    assert label.xref == "paper" and label.x >= 1 and label.xanchor == "left"
    assert label.y == 0.85 and fig.layout.margin.r >= 90


def _pareto() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "reason_code": ["mech", "changeover", "jam", "unknown"],
            "label": ["Mechanical failure", "Changeover", "Part jam", "Unknown"],
            "category": ["breakdown", "setup", "minor_stop", "breakdown"],
            "events": [3, 2, 9, 1],
            "seconds": [7200.0, 3600.0, 1800.0, 900.0],
            "cumulative_share": [7200 / 13500, 10800 / 13500, 12600 / 13500, 1.0],
        }
    )


def test_pareto_colours_have_a_legend():
    fig = figures_oee.pareto(_pareto())
    bars = [t for t in fig.data if t.type == "bar"]
    assert fig.layout.showlegend is True
    assert {t.name: t.marker.color for t in bars} == {
        "Breakdown": theme.LOSS_COLOURS["breakdown"],
        "Setup": theme.LOSS_COLOURS["setup"],
        "Minor stop": theme.LOSS_COLOURS["minor_stop"],
    }
    assert [t.name for t in fig.data if t.type == "scatter"] == ["Cumulative share"]
    # Bars stay in Pareto order (largest first) whatever trace they belong to, and each reason is drawn once.
    assert list(fig.layout.xaxis.categoryarray) == ["Mechanical failure", "Changeover", "Part jam", "Unknown"]
    assert sorted(x for t in bars for x in t.x) == sorted(_pareto()["label"])


def test_heatmap_explains_blank_cells():
    """A machine-day without planned time (a weekend) is blank; its hover text and the axis say why."""
    rows = []
    for key, day, planned in [("M1", date(2026, 11, 13), 100.0), ("M1", date(2026, 11, 14), 100.0)]:
        rows.append({"key": key, "day": day, **dict.fromkeys(PARTS, 0.0), "planned_s": planned, "oee": 0.8})
    rows.append({"key": "M2", "day": date(2026, 11, 13), **dict.fromkeys(PARTS, 0.0), "planned_s": 50.0, "oee": 0.6})
    fig = figures_oee.heatmap(pd.DataFrame(rows), {"M1": "Machine 1", "M2": "Machine 2"})
    hm = fig.data[0]
    cells = {(y, x): t for y, row in zip(hm.y, hm.text, strict=True) for x, t in zip(hm.x, row, strict=True)}
    assert cells[("Machine 2", "2026-11-14")] == "no planned production"
    assert cells[("Machine 1", "2026-11-14")] == "OEE 80.0%"
    assert np.isnan(np.asarray(hm.z, dtype=float)).sum() == 1
    assert "blank: no planned production" in fig.layout.xaxis.title.text and "%{text}" in hm.hovertemplate


def _trend() -> pd.DataFrame:
    xs = pd.date_range("2026-10-28", "2026-11-26", freq="D")
    frame = pd.DataFrame({"x": xs, "key": "A", **dict.fromkeys(PARTS, 0.0)})
    has = frame["x"] >= pd.Timestamp("2026-11-13")
    frame.loc[has, "planned_s"] = 100.0
    for col in ("oee", "availability", "performance", "quality"):
        frame[col] = np.where(has, 0.8, np.nan)
    return frame


def test_trend_says_where_the_data_starts_and_labels_the_target():
    """'Last 30 days' over 14 days of data: the empty half is shaded and named, not left blank."""
    fig = figures_oee.trend(_trend(), "day", "UTC", "plant", {"A": "Alpha"}, 0.85, data_from=pd.Timestamp("2026-11-13"))
    shade = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(shade) == 1
    assert pd.Timestamp(shade[0].x0) == pd.Timestamp("2026-10-28") and pd.Timestamp(shade[0].x1) == pd.Timestamp(
        "2026-11-13"
    )
    _annotation(fig, "no data before 2026-11-13")
    assert _annotation(fig, "target").x >= 1
    # When the data covers the range there is nothing to shade.
    fig = figures_oee.trend(_trend(), "day", "UTC", "plant", {"A": "Alpha"}, 0.85, data_from=None)
    assert not [s for s in fig.layout.shapes if s.type == "rect"]


def test_money_axes_use_one_human_format():
    """'$,.3s' drew '$0.00' next to '$100k'; '~' trims the zeros: $0, $50k, $1.2M, and bar labels match the axis."""
    status = pd.DataFrame({"plant_id": ["A", "B"], "value": [575_000.0, 0.0]})
    value = figures_inventory.value_by_plant(status, ["A", "B"], {"A": "Alpha", "B": "Beta"})
    assert value.layout.yaxis.tickformat == figures_inventory.MONEY == "$,.3~s"
    assert value.data[0].texttemplate == "%{y:$,.3~s}"
    flows = pd.DataFrame({"day": [date(2026, 11, 1)] * 2, "kind": ["consumption", "receipt"], "value": [1.0, 2.0]})
    assert figures_inventory.flows(flows, "UTC").layout.yaxis.tickformat == "$,.3~s"


def test_wall_target_is_labelled_and_breaks_are_named():
    """A 15-minute OEE series 06:00-12:00 with 10:00-10:30 missing (the mid-shift break of a 06:00 8 h shift)."""
    b = pd.date_range("2026-11-26 06:00", "2026-11-26 11:45", freq="15min", tz="UTC")
    b = b[(b < pd.Timestamp("2026-11-26 10:00", tz="UTC")) | (b >= pd.Timestamp("2026-11-26 10:30", tz="UTC"))]
    series = pd.DataFrame({"bucket": b, "oee": 0.8})
    fig = wall.oee_figure(series, "UTC", 0.85, [("06:00", 8.0)])
    assert _annotation(fig, "target").x >= 1
    rect = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(rect) == 1
    assert pd.Timestamp(rect[0].x0) == pd.Timestamp("2026-11-26 10:00")
    assert pd.Timestamp(rect[0].x1) == pd.Timestamp("2026-11-26 10:30")
    assert _annotation(fig, "break")
    # The same gap outside every shift is not called a break.
    fig = wall.oee_figure(series, "UTC", 0.85, [("14:00", 8.0)])
    assert _annotation(fig, "no planned production")


@pytest.mark.parametrize(
    ("tz", "when", "name"),
    [
        ("America/Detroit", "2026-11-26 12:00", "EST"),
        ("America/Detroit", "2026-07-01 12:00", "EDT"),
        ("Asia/Kolkata", "2026-11-26 12:00", "IST"),
        ("Asia/Dubai", "2026-11-26 12:00", "UTC+4"),
        ("Asia/Kathmandu", "2026-11-26 12:00", "UTC+5:45"),
    ],
)
def test_wall_zone_names_one_way(tz, when, name):
    assert wall.zone_name(pd.Timestamp(when, tz="UTC").tz_convert(tz)) == name


def test_custom_range_subtitle_shows_the_dates():
    view = viewstate.View(preset="custom", first=date(2026, 11, 1), last=date(2026, 11, 14))
    assert viewstate.range_label(view) == "2026-11-01 to 2026-11-14"
    assert viewstate.range_label(viewstate.View(preset="30d")) == "Last 30 days"


def test_heatmap_cells_before_the_data_starts_say_so():
    rows = [
        {"key": "M1", "day": date(2026, 11, 13), **dict.fromkeys(PARTS, 0.0), "planned_s": 100.0, "oee": 0.8},
        {"key": "M2", "day": date(2026, 11, 14), **dict.fromkeys(PARTS, 0.0), "planned_s": 100.0, "oee": 0.7},
    ]
    fig = figures_oee.heatmap(pd.DataFrame(rows), {}, first_day={"M2": date(2026, 11, 14)})
    hm = fig.data[0]
    cells = {(y, x): t for y, row in zip(hm.y, hm.text, strict=True) for x, t in zip(hm.x, row, strict=True)}
    assert cells[("M2", "2026-11-13")] == "no data before 2026-11-14"
    assert "or before the data starts" in fig.layout.xaxis.title.text
