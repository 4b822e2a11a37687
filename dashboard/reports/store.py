"""Reports in the database: a saved view (page + URL fragment), a schedule in a plant's time and recipients."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dashboard import queries, viewstate
from dashboard.reports.schedule import WEEKDAYS

PAGES = {"/": "Executive overview", "/oee": "OEE", "/inventory": "Inventory"}
NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


class ReportError(ValueError):
    """A report request that cannot be taken; the message says why in words."""


@dataclass(frozen=True)
class Report:
    name: str
    page: str
    fragment: str
    plant_id: str
    tz: str
    every: str
    weekday: int | None
    at: time
    recipients: tuple[str, ...]
    created_at: datetime
    run_as: str | None = None

    @property
    def title(self) -> str:
        return f"{PAGES[self.page]} · {self.name}"


def _view_fragment(engine: Engine, fragment: str) -> str:
    """The fragment checked against what exists (unknown plants, bad dates are refused, not ignored)."""
    view, notices = viewstate.parse(viewstate.from_fragment(fragment), queries.hierarchy(engine))
    if notices:
        raise ReportError(" ".join(notices).rstrip("."))
    return view.query().replace("?", "#", 1)


def add(
    engine: Engine,
    name: str,
    page: str,
    fragment: str,
    plant: str,
    every: str,
    at: str,
    recipients: list[str],
    run_as: str | None = None,
) -> Report:
    """Save a report; ``every`` is 'daily' or a weekday ('mon'..'sun'), ``at`` 'HH:MM' in the plant's time;
    ``run_as`` names the user whose view it prints when sign-in is on."""
    if not NAME.match(name):
        raise ReportError(f"{name[:64]!r} is not a report name: use 1-64 letters, digits, '.', '_', '@' or '-'")
    if page not in PAGES:
        raise ReportError(f"unknown page {page[:40]!r}; choose from {', '.join(PAGES)}")
    if every != "daily" and every not in WEEKDAYS:
        raise ReportError(f"--every must be daily or a weekday ({', '.join(WEEKDAYS)}), got {every[:20]!r}")
    try:
        when = time.fromisoformat(at) if re.fullmatch(r"\d\d:\d\d", at) else None
    except ValueError:
        when = None
    if when is None:
        raise ReportError(f"--at must be a time of day as HH:MM, got {at[:20]!r}")
    if not recipients or (bad := [r for r in recipients if not EMAIL.match(r)]):
        raise ReportError(f"{bad[0][:60]!r} is not an e-mail address" if recipients else "name at least one recipient")
    known = set(queries.plants(engine)["plant_id"])
    if plant not in known:
        raise ReportError(f"unknown plant {plant[:40]!r}; the plants are: {', '.join(sorted(known)) or 'none yet'}")
    fragment = _view_fragment(engine, fragment)
    with engine.connect() as conn:
        if run_as and not conn.execute(sa.text("select 1 from app_user where username = :u"), {"u": run_as}).first():
            raise ReportError(f"there is no user {run_as[:64]!r} to print the report as")
    weekday = None if every == "daily" else WEEKDAYS.index(every)
    with engine.begin() as conn:
        if conn.execute(sa.text("select 1 from report where name = :n"), {"n": name}).first():
            raise ReportError(f"a report named {name!r} exists; remove it first")
        conn.execute(
            sa.text(
                """insert into report (name, page, fragment, plant_id, every, weekday, at_time, recipients, run_as)
                   values (:n, :p, :f, :pl, :e, :w, :a, :r, :u)"""
            ),
            {"n": name, "p": page, "f": fragment, "pl": plant, "e": "daily" if weekday is None else "weekly",
             "w": weekday, "a": when, "r": recipients, "u": run_as or None},
        )
    found = get(engine, name)
    assert found is not None
    return found


_SELECT = """select r.name, r.page, r.fragment, r.plant_id, p.tz, r.every, r.weekday, r.at_time, r.recipients,
                    r.created_at, r.run_as
             from report r join plant p using (plant_id)"""


def all_reports(engine: Engine) -> list[Report]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(_SELECT + " order by r.name")).all()
    return [Report(*r[:8], tuple(r[8]), r[9], r[10]) for r in rows]


def get(engine: Engine, name: str) -> Report | None:
    with engine.connect() as conn:
        r = conn.execute(sa.text(_SELECT + " where r.name = :n"), {"n": name}).first()
    return None if r is None else Report(*r[:8], tuple(r[8]), r[9], r[10])


def remove(engine: Engine, name: str) -> bool:
    with engine.begin() as conn:
        return conn.execute(sa.text("delete from report where name = :n"), {"n": name}).rowcount > 0


def last_sent(engine: Engine, name: str) -> datetime | None:
    with engine.connect() as conn:
        return conn.execute(sa.text("select max(sent_at) from report_sent where name = :n"), {"n": name}).scalar()
