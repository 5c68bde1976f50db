"""What a signed session produces from the jury's pages: the accrochage XML of that session,
valid against the CDC XSD and holding only the jury's awards; and what a session may not do
under a certification whose registration has ended."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from ltiservice.models import CertificationAward, JurySession
from tests.certification.test_jury_chain import (
    Secretary,
    _jury_decision,
    _person_id,
    _propose,
    _rows,
)
from tests.evaluations.support import errors_of, text_of
from tests.support.lti_harness import LtiHarness

pytestmark = pytest.mark.peer

XSD = Path(__file__).parents[1] / "exports" / "data" / "cdc-accrochage-cpf-1.1.2.xsd"
NS = {"cpf": "urn:cdc:cpf:pc5:schema:1.0.0"}
HEADER = (
    "issuer;sub;nom_naissance;nom_usage;prenom1;prenom2;annee_naissance;mois_naissance;"
    "jour_naissance;sexe;code_insee_naissance;code_postal_naissance;libelle_commune_naissance;"
    "modalite_acces;date_inscription"
)
SENDER = (
    'id_client_emetteur = "01ABC234"\nid_client_certificateur = "09XYZ876"\n'
    'id_contrat = "MCFCER000999"\nmodalite_passage_examen = "MIXTE"\n'
)


def _signed_crca_session(lti: LtiHarness) -> tuple[Secretary, int, int]:
    for sub in ("learner-a", "learner-b"):
        _propose(lti, "B1", sub)
    _propose(lti, "B2B", "learner-a")
    a, b = _person_id(lti, "learner-a"), _person_id(lti, "learner-b")
    secretary = Secretary(lti)
    secretary.open()
    secretary.member("Salariée", "employees", president="on")
    secretary.member("Employeur", "employers")
    for person in (a, b):
        secretary.present(person)
    secretary.decide(_jury_decision(lti, a), "validation_totale", ["B1", "B2B"])
    secretary.decide(_jury_decision(lti, b), "validation_partielle", ["B1"])
    assert secretary.sign().status_code == 200
    return secretary, a, b


def test_the_session_s_accrochage_holds_only_what_the_jury_awarded(lti: LtiHarness) -> None:
    secretary, _, _ = _signed_crca_session(lti)
    folder = Path(lti.live.app.instance_path) / "accrochage"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "of-test.toml").write_text(SENDER, encoding="utf-8")
    identities = "\n".join(
        [
            HEADER,
            f"{lti.peer.issuer};learner-a;DUPONT;;Camille;;1998;4;17;F;69123;;LYON;"
            "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION;2024-09-02",
            f"{lti.peer.issuer};learner-b;MARTIN;;Lucas;;1990;;;M;;75011;;;",
        ]
    )
    path = f"/jury/sessions/{secretary.session_id}/accrochage"
    browser = secretary.visitor.browser
    answer = browser.post(
        f"{secretary.visitor.base}{path}",
        data={"launch": secretary.visitor.launch, "csrf_token": secretary.visitor.csrf},
        files={"identities": ("etat-civil.csv", identities.encode(), "text/csv")},
    )

    assert answer.status_code == 200, answer.text[:800]
    assert answer.headers["Content-Type"].startswith("application/xml")
    document = etree.fromstring(answer.content)
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    assert schema.validate(document), schema.error_log
    passages = document.findall(".//cpf:passageCertification", NS)
    (award,) = [a.id for a in _rows(lti, CertificationAward)]
    assert [p.findtext("cpf:idTechnique", namespaces=NS) for p in passages] == [
        f"ltiservice-award-{award}"
    ]
    assert document.findtext(".//cpf:certification/cpf:code", namespaces=NS) == "RNCP41351"


def test_without_the_civil_status_file_nothing_is_exported(lti: LtiHarness) -> None:
    secretary, _, _ = _signed_crca_session(lti)
    refused = secretary.post("/accrochage")
    assert refused.status_code == 422
    assert "Joignez le fichier d'état civil des titulaires (CSV)." in errors_of(refused)


def test_a_jury_under_an_ended_registration_cannot_deliver(lti: LtiHarness) -> None:
    """Fiche RNCP36140: registration ended 26-01-2025; no delivery after that day."""
    version = {"certification": "CRCA", "version": "RNCP36140"}
    _propose(lti, "BC01", "learner-old", **version)
    person = _person_id(lti, "learner-old")
    secretary = Secretary(lti, "BC01")
    page = secretary.open(version="RNCP36140")
    assert "Enregistrement au RNCP terminé." in text_of(page)
    secretary.member("Salariée", "employees", president="on")
    secretary.member("Employeur", "employers")
    secretary.present(person)

    refused = secretary.decide(_jury_decision(lti, person), "validation_partielle", ["BC01"])

    assert refused.status_code == 422
    assert any("ne peut plus valider de bloc" in e for e in errors_of(refused))
    assert _rows(lti, CertificationAward) == []


def test_the_jury_s_conventions_are_shown_as_such(lti: LtiHarness) -> None:
    secretary = Secretary(lti)
    page = secretary.open()
    text = text_of(page)
    assert "Règles de ce jury à confirmer par le certificateur" in text
    assert "Composition du jury de certification — Convention du produit" in text


def test_the_cli_writes_the_signed_minutes_or_says_why_not(lti: LtiHarness, tmp_path) -> None:
    from ltiservice.exports.cli import export_cli

    runner = lti.live.app.test_cli_runner()
    secretary = Secretary(lti)
    secretary.open()
    out = tmp_path / "pv.pdf"
    args = ["pv-jury", "--organisation", "of-test", "--session", str(secretary.session_id)]
    draft = runner.invoke(export_cli, [*args, "--out", str(out)])
    assert draft.exit_code == 1 and "n'est pas signée" in draft.output
    assert not out.exists()
    other = runner.invoke(export_cli, [*args[:-1], "999999", "--out", str(out)])
    assert other.exit_code == 1 and "n'existe pas dans votre organisme" in other.output

    signed, _, _ = _signed_crca_session(lti)
    args[-1] = str(signed.session_id)
    written = runner.invoke(export_cli, [*args, "--out", str(out)])
    assert written.exit_code == 0, written.output
    (session,) = [s for s in _rows(lti, JurySession) if s.id == signed.session_id]
    assert out.read_bytes() == session.minutes_pdf
