"""Per-plant windows in the analytics layer, on hand-built data in two time zones."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask

from dashboard import analytics, data
from dashboard.config import Settings
from dashboard.viewstate import View
from tests.known import D, load_known


@pytest.fixture
def known(db_engine):
    load_known(db_engine)
    data.init_app(Flask("t"), db_engine, Settings(refresh_seconds=5))
    return db_engine


def _cells(frame) -> set[tuple[str, date]]:  # noqa: ANN001
    return {(r.key, r.day) for r in frame.itertuples()}


def test_heatmap_today_is_each_plants_own_date(known):
    # 18:45 UTC on the 14th: already 00:15 on the 15th in Kolkata, still 19:45 on the 14th in Berlin.
    at = D + timedelta(hours=18, minutes=45)
    cells = _cells(analytics.heatmap(View("today"), at))
    # Kolkata's today is the 15th (K1 ran 00:00-00:30 local); its 14th (K1, K2 until midnight) is yesterday.
    # Berlin's today is the 14th (B1 runs 23:30-24:00 local). One UTC calendar gave the 14th for both plants.
    assert cells == {("K1", date(2026, 1, 15)), ("B1", date(2026, 1, 14))}


def test_heatmap_of_custom_dates_keeps_every_plant(known):
    cells = _cells(analytics.heatmap(View("custom", date(2026, 1, 14), date(2026, 1, 15)), D + timedelta(days=3)))
    assert cells == {
        ("B1", date(2026, 1, 14)),
        ("B1", date(2026, 1, 15)),
        ("K1", date(2026, 1, 14)),
        ("K1", date(2026, 1, 15)),
        ("K2", date(2026, 1, 14)),
    }


def test_a_range_longer_than_the_data_says_where_the_data_starts(known):
    """Berlin's first minute is 22:30 UTC on the 14th (23:30 local). A range from the 1st to the 15th is 13 days
    empty before it: the subtitle says so. The 14th-15th range starts on the data's own day: nothing to say."""
    at = D + timedelta(days=3)
    berlin = View("custom", date(2026, 1, 1), date(2026, 1, 15), plants=("BER",))
    first = analytics.data_from(berlin, at)
    assert first is not None and first.isoformat() == "2026-01-14T22:30:00+00:00"
    assert analytics.range_note(berlin, at) == "2026-01-01 to 2026-01-15 · data starts 2026-01-14"
    assert analytics.data_from(View("custom", date(2026, 1, 14), date(2026, 1, 15), plants=("BER",)), at) is None
    assert analytics.range_note(View("custom", date(2026, 1, 14), date(2026, 1, 15)), at) == "2026-01-14 to 2026-01-15"


def test_stock_sparklines_end_on_the_cards_numbers(known):
    """tests/known.py's stock at BER, recorded at 11:00 on Jan 20: M1 800 kg x $2.50 + M2 40 L x $10 = $2,400.
    Use over the last 7 days: M1 7 x $250 + M2 $300 + $400 = $2,450, $350 a day -> 2,400 / 350 = 6.857 days; one
    material (M2, 40 <= 50) below its reorder point. The day before: M1's 1,000 kg snapshot alone, $2,500."""
    from datetime import UTC, datetime

    from tests.known import load_stock

    at = datetime(2026, 1, 20, 12, tzinfo=UTC)
    load_stock(known, at)
    d = analytics.stock_daily(View("7d"), at)
    assert len(d) == 14 and d["day"].iloc[-1].date() == date(2026, 1, 20)
    last = d.iloc[-1]
    assert last.value == pytest.approx(2400.0) and last.below == 1
    assert last.cover_days == pytest.approx(2400 / 350)
    assert d.iloc[-2].value == pytest.approx(2500.0)
