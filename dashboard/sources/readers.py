"""Read CSV, Excel (.xlsx) and Parquet files in chunks of text columns, with a progress bar."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from tqdm import tqdm

from dashboard.sources.kinds import normalise

CHUNK_BYTES = 16 << 20  # CSV block: bounds memory whatever the file's size
CHUNK_ROWS = 250_000  # Parquet and Excel batches


class ReadError(ValueError):
    """A file that cannot be read at all."""


@dataclass
class Chunk:
    first_row: int  # spreadsheet row number of the chunk's first row (the header row is row 1)
    table: pa.Table  # columns named by kinds.normalise()


class _Counting(io.RawIOBase):
    """A file that tells a progress bar how far it has been read."""

    def __init__(self, raw: io.BufferedReader, bar: tqdm) -> None:
        self.raw, self.bar = raw, bar

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:
        n = self.raw.readinto(b)
        self.bar.update(n or 0)
        return n


def headers(path: Path) -> list[str]:
    """The header row as written in the file."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pq.ParquetFile(path).schema_arrow.names
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return [str(c) for c in pd.read_excel(path, engine="calamine", nrows=0).columns]
    return _csv_header(path)[0]


def _csv_header(path: Path) -> tuple[list[str], pcsv.ParseOptions]:
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        line = f.readline()
    if not line.strip():
        raise ReadError(f"{path.name} is empty: the first line must name the columns")
    options = _parse(line)
    return pcsv.read_csv(io.BytesIO(line.encode()), parse_options=options).column_names, options


def _parse(header_line: str) -> pcsv.ParseOptions:
    # Excel in much of Europe writes ';' between fields; tabs come from copy and paste.
    delimiter = max((",", ";", "\t"), key=header_line.count)
    return pcsv.ParseOptions(delimiter=delimiter)


def chunks(path: Path, progress: bool = False) -> Iterator[Chunk]:
    """The file as chunks of text columns (Parquet keeps its own types)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            yield from _parquet(path, progress)
        elif suffix in (".xlsx", ".xlsm", ".xls"):
            yield from _excel(path, progress)
        else:
            yield from _csv(path, progress)
    except (pa.ArrowInvalid, OSError, ValueError) as exc:
        raise ReadError(f"{path.name} cannot be read: {str(exc).strip().splitlines()[0]}") from None


def _rename(table: pa.Table) -> pa.Table:
    return table.rename_columns([normalise(c) for c in table.column_names])


def _csv(path: Path, progress: bool) -> Iterator[Chunk]:
    names, options = _csv_header(path)
    convert = pcsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True, quoted_strings_can_be_null=True
    )
    bar = tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc=path.name, disable=not progress)
    with bar, open(path, "rb", buffering=0) as raw:
        counted = io.BufferedReader(_Counting(raw, bar), buffer_size=1 << 20)
        reader = pcsv.open_csv(
            counted,
            read_options=pcsv.ReadOptions(block_size=CHUNK_BYTES, use_threads=True),
            parse_options=options,
            convert_options=convert,
        )
        row = 2
        for batch in reader:
            if batch.num_rows:
                yield Chunk(row, _rename(pa.Table.from_batches([batch])))
                row += batch.num_rows


def _parquet(path: Path, progress: bool) -> Iterator[Chunk]:
    f = pq.ParquetFile(path)
    row = 2
    with tqdm(total=f.metadata.num_rows, unit="rows", desc=path.name, disable=not progress) as bar:
        for batch in f.iter_batches(batch_size=CHUNK_ROWS):
            yield Chunk(row, _rename(pa.Table.from_batches([batch])))
            row += batch.num_rows
            bar.update(batch.num_rows)


def _excel(path: Path, progress: bool) -> Iterator[Chunk]:
    # An .xlsx sheet holds at most 1,048,576 rows, so reading the first sheet whole stays bounded.
    frame = pd.read_excel(path, engine="calamine", dtype=object)
    with tqdm(total=len(frame), unit="rows", desc=path.name, disable=not progress) as bar:
        for lo in range(0, len(frame), CHUNK_ROWS):
            part = frame.iloc[lo : lo + CHUNK_ROWS]
            cols = {normalise(str(c)): pa.array([_text(v) for v in part[c]], pa.string()) for c in part.columns}
            yield Chunk(lo + 2, pa.table(cols))
            bar.update(len(part))


def _text(v: object) -> str | None:
    if v is None or (isinstance(v, float) and v != v) or v is pd.NaT:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v).strip() or None
