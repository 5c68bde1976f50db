"""The accrochage export refuses deliveries the law forbids: none after the last delivery date."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from ltiservice import db
from ltiservice.exports.accrochage import check_deliverable
from ltiservice.exports.scope import ExportError
from ltiservice.grading.loader import load_plugins
from ltiservice.models import CertificationAward
from tests.exports.test_accrochage import SUMMER, files, run  # noqa: F401 (fixture)


def _referential(code: str):
    return dict(load_plugins())[code].current


def test_a_stated_last_delivery_date_is_the_limit() -> None:
    mutualite = _referential("MUTUALITE")
    check_deliverable(mutualite, dt.date(2031, 11, 28))  # registration ended, delivery lawful
    with pytest.raises(ExportError) as refused:
        check_deliverable(mutualite, dt.date(2031, 11, 29))
    assert refused.value.message == (
        "Certification RNCP39866 : aucune délivrance n'est possible après le 28/11/2031 (date "
        "de dernière délivrance possible) ; aucun fichier écrit."
    )


def test_without_a_stated_date_the_end_of_registration_is_the_limit() -> None:
    courtage = _referential("COURTAGE")
    check_deliverable(courtage, dt.date(2021, 8, 7))
    with pytest.raises(ExportError) as refused:
        check_deliverable(courtage, dt.date(2021, 8, 8))
    assert (
        "aucune délivrance n'est possible après le 07/08/2021 (fin d'enregistrement, la "
        "fiche ne donnant pas de date de dernière délivrance)" in refused.value.message
    )


def test_the_cli_refuses_an_expired_certification_and_writes_nothing(export, cohort, files):  # noqa: F811
    result = export(
        "accrochage", "--organisation", "of-alpha", "--certification", "COURTAGE", *SUMMER,
        "--config", str(files["config"]), "--identities", str(files["identities"]),
        "--out", str(files["out"] / "flux.xml"),
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Certification RNCP31395 : aucune délivrance n'est possible après le 07/08/2021" in (
        result.stderr
    )
    assert list(files["out"].iterdir()) == []


def test_an_award_granted_after_its_version_could_be_delivered_is_refused(
    app,
    export,
    cohort,
    files,  # noqa: F811
):
    # Camille's award of 20/06/2025 claimed under RNCP36140, whose registration ended on
    # 26/01/2025 with no delivery period stated: that delivery cannot be declared.
    with app.app_context():
        db.session().execute(
            update(CertificationAward)
            .where(CertificationAward.id == cohort["camille_award"].id)
            .values(referential_version="RNCP36140")
        )
        db.session().commit()
    result = run(export, files)
    assert result.exit_code == 1
    assert "Certification RNCP36140 : aucune délivrance n'est possible après le 26/01/2025" in (
        result.stderr
    )
    assert list(files["out"].iterdir()) == []
