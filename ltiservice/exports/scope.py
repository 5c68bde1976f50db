"""What an export covers: one organisation, one certification, a period; bad input in French."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ltiservice.errors import ServiceError
from ltiservice.grading.interface import CertificationPlugin
from ltiservice.models import Organisation

#: Period bounds are calendar days as French organisations read them.
PARIS = ZoneInfo("Europe/Paris")


class ExportError(ServiceError):
    """An export cannot be produced; the French message says why and names the culprit."""

    code = "export_error"
    title = "Export impossible"


@dataclass(frozen=True)
class Period:
    """Half-open UTC interval [start, end); None means unbounded on that side."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None


def parse_day(text: str, option: str) -> dt.date:
    """A YYYY-MM-DD date, or an `ExportError` naming the option."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ExportError(
            f"Date invalide pour {option} : « {text} » (format attendu AAAA-MM-JJ)."
        ) from None


def parse_period(start: str | None, end: str | None) -> Period:
    """--from and --to (both inclusive, Paris days) as a UTC interval."""
    first = parse_day(start, "--from") if start else None
    last = parse_day(end, "--to") if end else None
    if first and last and last < first:
        raise ExportError(f"Période vide : --to ({last}) précède --from ({first}).")
    return Period(
        _utc_midnight(first) if first else None,
        _utc_midnight(last + dt.timedelta(days=1)) if last else None,
    )


def _utc_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), PARIS).astimezone(dt.UTC)


def find_organisation(db: Session, slug: str) -> Organisation:
    """The organisation with this slug, or an `ExportError`."""
    organisation = db.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        raise ExportError(f"Organisme de formation inconnu : « {slug} ».")
    return organisation


def find_certification(
    plugins: Mapping[str, CertificationPlugin], code: str
) -> CertificationPlugin:
    """The plugin whose code (CRCA…) or one of whose RNCP codes (RNCP41351…) is ``code``."""
    wanted = code.strip().upper()
    for plugin in plugins.values():
        if plugin.code.upper() == wanted:
            return plugin
        rncp = {(r.certification.rncp_code or "").upper() for r in plugin.referentials.values()}
        if wanted in rncp:
            return plugin
    known = ", ".join(sorted(plugins))
    raise ExportError(f"Certification inconnue : « {code} » (certifications connues : {known}).")


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands timestamps back naive; they were written in UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC, to the second."""
    moment = as_utc(value)
    return moment.isoformat(timespec="seconds") if moment else None


def paris_day(value: dt.datetime) -> dt.date:
    """The calendar day, in Paris, of a stored timestamp."""
    moment = as_utc(value)
    assert moment is not None
    return moment.astimezone(PARIS).date()
