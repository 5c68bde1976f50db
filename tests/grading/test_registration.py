"""Registration end dates and last delivery dates, from the shipped referentials' facts."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from functools import cache

import pytest

from ltiservice.grading.interface import Referential
from ltiservice.grading.loader import load_plugins
from ltiservice.grading.registration import registration_status
from ltiservice.grading.schema import ReferentialError, parse_referential


@cache
def _referential(code: str, version: str) -> Referential:
    return dict(load_plugins())[code].referential(version)


def test_courtage_is_registered_through_its_end_date_then_expired() -> None:
    courtage = _referential("COURTAGE", "RNCP31395")
    last_day = registration_status(courtage, dt.date(2021, 8, 7))
    assert (last_day.state, last_day.deliverable) == ("active", True)
    assert last_day.message == (
        "La certification RNCP31395 est enregistrée au RNCP jusqu'au 07/08/2021."
    )

    after = registration_status(courtage, dt.date(2026, 12, 3))
    assert after.expired and not after.deliverable
    assert (after.end_date, after.last_delivery_date) == (dt.date(2021, 8, 7), None)
    assert after.message == (
        "L'enregistrement au RNCP de la certification RNCP31395 a pris fin le 07/08/2021 : seuls "
        "les candidats entrés en parcours avant cette date peuvent encore s'y présenter. La "
        "fiche ne donne pas de date de dernière délivrance possible : aucune délivrance après "
        "le 07/08/2021. La certification ne peut plus être délivrée."
    )


def test_rncp36140_ended_on_26_january_2025() -> None:
    crca_2022 = _referential("CRCA", "RNCP36140")
    assert registration_status(crca_2022, dt.date(2025, 1, 26)).state == "active"
    assert registration_status(crca_2022, dt.date(2025, 1, 27)).expired
    assert registration_status(_referential("CRCA", "RNCP41351"), dt.date(2026, 12, 3)).state == (
        "active"
    )


def test_mutualite_may_be_delivered_until_its_last_delivery_date() -> None:
    mutualite = _referential("MUTUALITE", "RNCP39866")
    assert mutualite.certification.last_delivery_date == dt.date(2031, 11, 28)

    expired = registration_status(mutualite, dt.date(2028, 1, 15))
    assert expired.expired and expired.deliverable
    assert expired.message.endswith("Date de dernière délivrance possible : 28/11/2031.")
    assert registration_status(mutualite, dt.date(2031, 11, 28)).deliverable
    assert not registration_status(mutualite, dt.date(2031, 11, 29)).deliverable


def test_a_referential_without_dates_is_active_and_deliverable() -> None:
    crca = _referential("CRCA", "RNCP41351")
    undated = replace(crca, certification=replace(crca.certification, registration_end_date=None))
    status = registration_status(undated, dt.date(2099, 1, 1))
    assert (status.state, status.deliverable, status.end_date) == ("active", True, None)
    assert (
        status.message == "Aucune date de fin d'enregistrement au RNCP n'est connue pour RNCP41351."
    )


def test_a_last_delivery_date_before_the_end_of_registration_is_refused() -> None:
    text = _plugin_text("mutualite", "referential_rncp39866.yaml").replace(
        "last_delivery_date: 2031-11-28", "last_delivery_date: 2027-01-01"
    )
    with pytest.raises(ReferentialError) as caught:
        parse_referential(text)
    assert any("last_delivery_date" in problem for problem in caught.value.problems)


def _plugin_text(name: str, file: str) -> str:
    from importlib import resources

    return resources.files(f"ltiservice_cqp_{name}").joinpath(file).read_text(encoding="utf-8")
