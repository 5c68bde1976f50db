"""CSV and JSON writers for the decisions and ledger records.

CSV is made for French Excel: UTF-8 with a BOM (so accents survive a double-click), ``;`` as
separator and ``,`` as decimal mark (Excel in a French locale uses both), CRLF line ends,
ISO 8601 dates, booleans as ``oui``/``non``, lists joined with ``, ``. A cell starting with
``= + - @`` gets a leading apostrophe so free text (a correction reason) is never run as a
formula. JSON is for programs: a streamed array of objects, values untouched, UTF-8.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from typing import IO, Any

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
    handle: IO[str], columns: Sequence[str], records: Iterable[dict[str, Any]]
) -> Iterable[None]:
    """Write the header then one line per record; yields after each record (progress)."""
    handle.write("\ufeff")
    writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([csv_cell(record[name]) for name in columns])
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


WRITERS = {"csv": write_csv, "json": write_json}
