"""French conventions from one place: Paris time, French dates and numbers (Babel)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ltiservice.formats import french_date, french_number, french_size, paris_datetime


def test_stored_moments_are_shown_in_paris_time_summer_and_winter() -> None:
    assert paris_datetime(datetime(2026, 12, 3, 14, 50)) == "03/12/2026 à 15:50"  # naive = UTC
    assert paris_datetime(datetime(2026, 6, 12, 16, 0, tzinfo=UTC)) == "12/06/2026 à 18:00"
    assert paris_datetime(datetime(2026, 12, 3, 14, 50), "long") == "3 décembre 2026 à 15:50"
    assert paris_datetime(None) == ""


def test_numbers_dates_and_sizes_read_the_french_way() -> None:
    assert french_number(10.0) == "10"
    assert french_number(12.5) == "12,5"
    assert french_number(1234.567) == "1\u202f234,57"
    assert french_date(date(2026, 3, 2)) == "02/03/2026"
    assert french_size(200) == "200 octets"
    assert french_size(4000) == "3,9 ko"
    assert french_size(3 * 1024 * 1024 // 2) == "1,5 Mo"
