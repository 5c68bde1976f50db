"""CSV and JSON writers for the decisions and ledger records.

CSV is made for French Excel: UTF-8 with a BOM (so accents survive a double-click), ``;`` as
separator and ``,`` as decimal mark (Excel in a French locale uses both), CRLF line ends,
French headers, labels and dates (``french.py``; the codes in extra columns), booleans as
``oui``/``non``, lists joined with ``, ``. A cell starting with ``= + - @`` gets a leading
apostrophe so free text (a correction reason) is never run as a formula. JSON is for
programs: a streamed array of objects, codes and ISO 8601 dates untouched, UTF-8.

`write_table` is what both the CLI and the console call.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from sqlalchemy.orm import Session

from ltiservice.exports import records
from ltiservice.exports.french import Column, csv_columns

FORMATS = ("csv", "json")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """One value as French Excel reads it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        text = format(value, ".15g")
        return text.replace(".", ",")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        value = ", ".join(str(item) for item in value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(
    handle: IO[str], columns: Sequence[Column], records: Iterable[dict[str, Any]]
) -> Iterable[None]:
    """Write the header then one line per record; yields after each record (progress)."""
    handle.write("\ufeff")
    writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
    writer.writerow([column.header for column in columns])
    for record in records:
        writer.writerow([csv_cell(column.value(record)) for column in columns])
        yield None


def write_json(
    handle: IO[str], columns: Sequence[str], records: Iterable[dict[str, Any]]
) -> Iterable[None]:
    """Write a JSON array, one object per line, without holding it in memory."""
    handle.write("[")
    separator = "\n"
    for record in records:
        handle.write(separator)
        handle.write(json.dumps({name: record[name] for name in columns}, ensure_ascii=False))
        separator = ",\n"
        yield None
    handle.write("\n]\n")


def write_table(
    db: Session, table: records.Table, scope: records.Scope, fmt: str, handle: IO[str]
) -> Iterator[None]:
    """Write one table of the scope as CSV or JSON; yields after each record (progress)."""
    columns = table.columns(scope)
    rows = table.rows(db, scope)
    if fmt == "csv":
        return iter(write_csv(handle, csv_columns(columns, scope.plugin), rows))
    return iter(write_json(handle, columns, rows))
