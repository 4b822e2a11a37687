"""Import one history file: recognise its kind, read it in chunks, refuse it whole if any row is bad, record it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dashboard import ingest
from dashboard.sources import convert, mb51, readers
from dashboard.sources.convert import Bad, Lookups
from dashboard.sources.kinds import KINDS, normalise, recognise
from dashboard.sources.writer import Counts, Writer

log = logging.getLogger(__name__)
LISTED = 100  # bad rows named per file; all of them are counted


@dataclass
class Result:
    file: str
    kind: str
    status: str  # done, refused, failed, dry-run
    counts: Counts = field(default_factory=Counts)
    refused: int = 0
    bad: list[Bad] = field(default_factory=list)
    message: str = ""
    import_id: int | None = None

    def summary(self) -> str:
        c = self.counts
        head = f"{self.file} ({self.kind}): {self.status}"
        return f"{head}: {c.new} new, {c.changed} changed, {c.unchanged} unchanged, {self.refused} refused" + (
            f"; {self.message}" if self.message else ""
        )


def lookups(conn: Connection, plants: tuple[str, ...] | None = None) -> Lookups:
    """The plant model as the importer checks rows against it; with ``plants``, only those plants exist
    (plant scope: a user of Stuttgart cannot import Detroit rows, which are then unknown)."""
    q = lambda s: [r for r in conn.execute(sa.text(s)).all() if plants is None or r[0] in plants]  # noqa: E731
    machines = q(
        "select l.plant_id, m.machine_id, p.tz, m.ideal_cycle_s"
        " from machine m join line l using (line_id) join plant p using (plant_id)"
    )
    sensors = q(
        "select l.plant_id, s.sensor_id, s.machine_id, s.kind, p.tz from sensor s join machine m using (machine_id)"
        " join line l using (line_id) join plant p using (plant_id)"
    )
    return Lookups(
        machine_tz={m: tz for _, m, tz, _ in machines},
        machine_cycle={m: c for _, m, _, c in machines},
        sensors={sid: tz for _, sid, _, _, tz in sensors},
        sensor_ids={(m, k): sid for _, sid, m, k, _ in sensors},
        plants={p: tz for p, tz in q("select plant_id, tz from plant")},
        stock={(p, m) for p, m in q("select plant_id, material_id from stock_policy")},
        reasons={r for (r,) in conn.execute(sa.text("select reason_code from downtime_reason")).all()},
    )


def _kind_of(path: Path, kind: str) -> str:
    headers = readers.headers(path)
    found = recognise(headers)
    if kind in ("auto", found):
        return found
    wants = KINDS[kind].required if kind in KINDS else mb51.REQUIRED
    missing = sorted(wants - {normalise(h) for h in headers})
    if missing:
        raise ValueError(f"{path.name} is not a {kind} file: it lacks column(s) {', '.join(missing)}")
    return kind


def _record(engine: Engine, r: Result, user: str) -> None:
    with engine.begin() as conn:
        if r.import_id is None:
            r.import_id = conn.execute(
                sa.text("insert into import_run (file, kind, username) values (:f, :k, :u) returning import_id"),
                {"f": r.file, "k": r.kind, "u": user},
            ).scalar_one()
            return
        conn.execute(
            sa.text(
                """update import_run set finished_at = now(), status = :s, rows_new = :n, rows_changed = :c,
                   rows_unchanged = :u, rows_refused = :r, message = :m where import_id = :id"""
            ),
            {
                "s": r.status,
                "n": r.counts.new,
                "c": r.counts.changed,
                "u": r.counts.unchanged,
                "r": r.refused,
                "m": r.message[:2000],
                "id": r.import_id,
            },
        )


def import_file(
    engine: Engine,
    path: Path | str,
    kind: str = "auto",
    dry_run: bool = False,
    user: str = "unknown",
    progress: bool = False,
    plants: tuple[str, ...] | None = None,
) -> Result:
    """Import ``path`` in one transaction; nothing of it is written unless every row is good."""
    path = Path(path)
    if not path.is_file():
        return Result(path.name, kind, "failed", message=f"{path} does not exist")
    try:
        kind = _kind_of(path, kind)
    except (ValueError, readers.ReadError) as exc:
        return Result(path.name, kind, "failed", message=str(exc))
    result = Result(path.name, kind, "running")
    _record(engine, result, user)
    try:
        with engine.connect() as conn:
            tx = conn.begin()
            try:
                _run(conn, path, kind, result, progress, plants)
                if result.refused or dry_run:
                    tx.rollback()
                else:
                    tx.commit()
            except BaseException:
                tx.rollback()
                raise
        if result.refused:
            result.status, result.counts = "refused", Counts()
            result.message = f"{result.refused} bad row(s); nothing was written" + (
                f"; {result.message}" if result.message else ""
            )
        else:
            result.status = "dry-run" if dry_run else "done"
    except (readers.ReadError, ingest.BatchError) as exc:
        result.status, result.message, result.counts = "failed", str(exc), Counts()
    except sa.exc.DBAPIError as exc:
        result.status, result.counts = "failed", Counts()
        result.message = "the database refused it: " + str(exc.orig).strip().splitlines()[0]
    except Exception as exc:  # noqa: BLE001 - the import is recorded as failed, in words, never half-written
        log.exception("import of %s failed", path)
        result.status, result.counts = "failed", Counts()
        result.message = (
            f"unexpected error: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
        )
    finally:
        if result.status == "running":
            result.status, result.message = "failed", "interrupted"
        _record(engine, result, user)
    return result


def _run(
    conn: Connection, path: Path, kind: str, result: Result, progress: bool, plants: tuple[str, ...] | None
) -> None:
    look = lookups(conn, plants)
    if kind == "mb51":
        mb51.run(conn, path, result, look, progress)
        return
    spec, writer = KINDS[kind], Writer(conn)
    for chunk in readers.chunks(path, progress):
        frame, problems = convert.convert(spec, chunk.table, chunk.first_row, look)
        result.refused += int(problems.mask.sum())
        result.bad += problems.listed(LISTED - len(result.bad))
        if not result.refused:  # after the first bad row, read on only to name the rest
            result.counts += writer.write(spec.table, frame)
    if result.counts.written:
        ingest.bump(conn, (ingest.KINDS[spec.table],))
