"""French conventions for every page and export: Paris time, French dates and numbers.

One place, on Babel's CLDR data (``babel.dates`` / ``babel.numbers``) rather than Flask-Babel:
the product has one locale (fr_FR) and one time zone (Europe/Paris) and no message catalogue
(the interface is written in French), so Flask-Babel's per-request locale selection and
gettext would add machinery for nothing, and its formatters need a request or app context
that exports and the outbox worker do not always have. Templates use the filters; Python code
calls the functions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from flask import Flask

PARIS = ZoneInfo("Europe/Paris")
LOCALE = "fr_FR"

#: Babel (CLDR) patterns by name.
DATETIME_PATTERNS = {
    "court": "dd/MM/y 'à' HH:mm",  # 03/12/2026 à 16:50
    "long": "d MMMM y 'à' HH:mm",  # 3 décembre 2026 à 16:50
    "heure": "HH:mm",  # 16:50
}


def paris_datetime(moment: datetime | None, pattern: str = "court") -> str:
    """A stored moment (naive means UTC, as the database keeps them) in Paris time."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return format_datetime(
        aware, DATETIME_PATTERNS.get(pattern, pattern), tzinfo=PARIS, locale=LOCALE
    )


def french_date(day: date | None, pattern: str = "dd/MM/y") -> str:
    """A calendar day, « 03/12/2026 » (no time zone: a day is a day)."""
    if day is None:
        return ""
    return format_date(day, pattern, locale=LOCALE)


def french_number(value: float | int | None, digits: int = 2) -> str:
    """« 10 », « 12,5 », « 1 234,57 » (at most ``digits`` decimals, no trailing zeros)."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "#" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def french_size(size: int) -> str:
    """« 0,2 ko », « 1,2 Mo », « 12 octets »."""
    if size >= 1024 * 1024:
        return f"{french_number(size / (1024 * 1024), 1)} Mo"
    if size >= 1024:
        return f"{french_number(size / 1024, 1)} ko"
    return f"{size} octet" + ("s" if size > 1 else "")


def init_app(app: Flask) -> None:
    """The template filters: ``|paris``, ``|date_fr``, ``|nombre``, ``|taille``."""
    app.jinja_env.filters["paris"] = paris_datetime
    app.jinja_env.filters["date_fr"] = french_date
    app.jinja_env.filters["nombre"] = french_number
    app.jinja_env.filters["taille"] = french_size
