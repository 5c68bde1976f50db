"""`ltiservice export accrochage`: a cohort's XML valid against the CDC XSD 1.1.2, or nothing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from lxml import etree

from ltiservice.exports.accrochage import build_flux, load_schema
from ltiservice.exports.scope import ExportError

NS = {"cpf": "urn:cdc:cpf:pc5:schema:1.0.0"}
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
XSD = Path(__file__).parent / "data" / "cdc-accrochage-cpf-1.1.2.xsd"
SCOPE = ["--organisation", "of-alpha", "--certification", "CRCA"]
SUMMER = ["--from", "2025-06-01", "--to", "2025-07-31"]
HEADER = (
    "issuer;sub;nom_naissance;nom_usage;prenom1;prenom2;annee_naissance;mois_naissance;"
    "jour_naissance;sexe;code_insee_naissance;code_postal_naissance;libelle_commune_naissance;"
    "modalite_acces;date_inscription"
)
CAMILLE = (
    "https://lms.alpha.example;learner-1;DUPONT;;Camille;Andrée;1998;4;17;F;69123;;LYON;"
    "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION;2024-09-02"
)
DOMINIQUE = "https://lms.alpha.example;learner-3;MARTINEZ;MARTIN;Dominique;;1987;;;M;;75011;;;"
SECRETS = ("DUPONT", "Andrée", "69123", "MARTINEZ", "1987", "75011")


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    config = tmp_path / "accrochage.toml"
    config.write_text(
        'id_client_emetteur = "01ABC234"\nid_client_certificateur = "09XYZ876"\n'
        'id_contrat = "MCFCER000999"\nmodalite_passage_examen = "MIXTE"\n'
        'code_postal_centre_examen = "69003"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    out.mkdir()
    return {
        "config": config,
        "identities": write(tmp_path / "identites.csv", HEADER, CAMILLE, DOMINIQUE),
        "out": out,
    }


def run(export, files, *extra: str, identities: Path | None = None):
    return export(
        "accrochage", *SCOPE, *SUMMER, "--config", str(files["config"]),
        "--identities", str(identities or files["identities"]),
        "--out", str(files["out"] / "flux.xml"), *extra,
    )  # fmt: skip


def text(element, path: str) -> str | None:
    return element.findtext(path, namespaces=NS)


def test_cohort_xml_validates_against_the_xsd_with_expected_values(export, cohort, files, caplog):
    caplog.set_level(logging.DEBUG)
    result = run(export, files)
    assert result.exit_code == 0, result.output
    assert "2 passage(s) de certification déclaré(s)" in result.stdout
    document = etree.parse(str(files["out"] / "flux.xml"))
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    assert schema.validate(document), schema.error_log
    root = document.getroot()
    assert root.tag == "{urn:cdc:cpf:pc5:schema:1.0.0}flux"
    assert text(root, "cpf:emetteur/cpf:idClient") == "01ABC234"
    assert len(text(root, "cpf:idFlux")) <= 50
    stamp = text(root, "cpf:horodatage")
    assert stamp[-6:] in {"+01:00", "+02:00"} and "." not in stamp
    certificateur = root.find("cpf:emetteur/cpf:certificateurs/cpf:certificateur", NS)
    assert text(certificateur, "cpf:idClient") == "09XYZ876"
    assert text(certificateur, "cpf:idContrat") == "MCFCER000999"
    (certification,) = certificateur.findall("cpf:certifications/cpf:certification", NS)
    assert (text(certification, "cpf:type"), text(certification, "cpf:code")) == (
        "RNCP",
        "RNCP41351",
    )
    camille, dominique = certification.findall(
        "cpf:passageCertifications/cpf:passageCertification", NS
    )
    assert text(camille, "cpf:idTechnique") == f"ltiservice-award-{cohort['camille_award'].id}"
    assert text(dominique, "cpf:idTechnique") == f"ltiservice-award-{cohort['dominique_award'].id}"
    assert [
        text(camille, f"cpf:{name}")
        for name in (
            "obtentionCertification", "donneeCertifiee", "dateDebutExamen", "dateFinExamen",
            "modalitePassageExamen", "codePostalCentreExamen", "dateDebutValidite",
            "presenceNiveauLangueEuro", "presenceNiveauNumeriqueEuro",
        )
    ] == [
        "PAR_ADMISSION", "true", "2025-06-01", "2025-06-20", "MIXTE", "69003", "2025-06-20",
        "false", "false",
    ]  # fmt: skip
    assert camille.find("cpf:dateFinValidite", NS).get(XSI_NIL) == "true"
    assert camille.find("cpf:scoring", NS).get(XSI_NIL) == "true"
    inscription = camille.find("cpf:modalitesInscription", NS)
    assert text(inscription, "cpf:modaliteAcces") == (
        "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION"
    )
    assert text(inscription, "cpf:dateInscription") == "2024-09-02"
    holder = camille.find("cpf:identificationTitulaire/cpf:titulaire", NS)
    assert [text(holder, f"cpf:{n}") for n in ("nomNaissance", "prenom1", "prenom2")] == [
        "DUPONT", "Camille", "Andrée",
    ]  # fmt: skip
    assert holder.find("cpf:nomUsage", NS).get(XSI_NIL) == "true"
    assert [text(holder, f"cpf:{n}") for n in ("anneeNaissance", "moisNaissance", "sexe")] == [
        "1998", "4", "F",
    ]  # fmt: skip
    assert text(holder, "cpf:codeCommuneNaissance/cpf:codeInseeNaissance/cpf:codeInsee") == (
        "69123"
    )
    # Dominique: usage name given, birth day/month unknown, postal code, access unknown.
    assert (text(dominique, "cpf:dateDebutExamen"), text(dominique, "cpf:dateFinExamen")) == (
        "2025-07-02",
        "2025-07-08",
    )
    holder = dominique.find("cpf:identificationTitulaire/cpf:titulaire", NS)
    assert text(holder, "cpf:nomUsage") == "MARTIN"
    assert holder.find("cpf:jourNaissance", NS).get(XSI_NIL) == "true"
    assert text(holder, "cpf:codeCommuneNaissance/cpf:codePostalNaissance/cpf:codePostal") == (
        "75011"
    )
    assert dominique.find("cpf:modalitesInscription/cpf:modaliteAcces", NS).get(XSI_NIL) == "true"
    # of-beta's award (same sub) is not declared; identity values are never logged.
    assert "learner-1" not in caplog.text or "DUPONT" not in caplog.text
    assert not any(secret in caplog.text for secret in SECRETS)
    assert not any(secret in result.output for secret in SECRETS)


def test_missing_identity_field_names_learner_and_field_and_writes_nothing(
    export, cohort, files, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    without_sex = DOMINIQUE.replace(";M;", ";;")
    identities = write(tmp_path / "incomplet.csv", HEADER, CAMILLE, without_sex)
    result = run(export, files, identities=identities)
    assert result.exit_code == 1
    assert "apprenant https://lms.alpha.example / learner-3 : champ « sexe » manquant" in (
        result.stderr
    )
    assert "learner-1" not in result.stderr
    assert list(files["out"].iterdir()) == []
    assert not any(secret in caplog.text + result.output for secret in SECRETS)


def test_learner_absent_from_csv_and_bad_value_are_named_without_values(
    export, cohort, files, tmp_path
):
    bad_year = CAMILLE.replace(";1998;", ";1898;")
    identities = write(tmp_path / "partiel.csv", HEADER, bad_year)
    result = run(export, files, identities=identities)
    assert result.exit_code == 1
    assert "learner-1 : champ « annee_naissance » invalide" in result.stderr
    assert "learner-3 : aucune ligne dans le fichier d'identités" in result.stderr
    assert "1898" not in result.output
    assert list(files["out"].iterdir()) == []


def test_no_award_in_period_writes_nothing(export, cohort, files):
    result = export(
        "accrochage", *SCOPE, "--from", "2024-01-01", "--to", "2024-12-31",
        "--config", str(files["config"]), "--identities", str(files["identities"]),
        "--out", str(files["out"] / "flux.xml"),
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Aucune certification CRCA attribuée par le jury dans la période" in result.stderr
    assert list(files["out"].iterdir()) == []


def test_bad_config_is_named(export, cohort, files):
    files["config"].write_text('id_client_emetteur = "123"\n', encoding="utf-8")
    result = run(export, files)
    assert result.exit_code == 1
    assert "réglage « id_client_certificateur » manquant" in result.stderr


def test_unknown_xsd_version_is_refused(app, export, cohort, files, monkeypatch):
    from dataclasses import replace

    settings = app.config["SETTINGS"]
    monkeypatch.setitem(app.config, "SETTINGS", replace(settings, cdc_xsd_version="1.1.5"))
    result = run(export, files)
    assert result.exit_code == 1
    assert "Version du XSD CDC inconnue : « 1.1.5 »" in result.stderr
    assert "1.1.2" in result.stderr
    assert list(files["out"].iterdir()) == []


def test_the_package_xsd_catches_what_the_identity_checks_would_miss():
    # Validation is the last gate: an id_client of the wrong length is refused by the schema.
    from datetime import UTC, date, datetime

    from ltiservice.exports.accrochage import Passage, Sender, validate
    from ltiservice.exports.identities import Identity

    identity = Identity(
        {"nom_naissance": "X", "prenom1": "Y", "annee_naissance": "1990", "sexe": "F",
         "code_insee_naissance": "75056"}
    )  # fmt: skip
    passage = Passage(1, ("i", "s"), "RNCP41351", date(2025, 6, 1), date(2025, 5, 1),
                      date(2025, 6, 1))  # fmt: skip
    document = build_flux(
        Sender("TOO-LONG-ID", "01ABC234", "C1"), [passage], {("i", "s"): identity},
        datetime(2025, 6, 1, 12, tzinfo=UTC),
    )  # fmt: skip
    with pytest.raises(ExportError, match="idClient"):
        validate(document, load_schema("1.1.2"), "1.1.2")


def test_only_the_certification_jury_s_signed_awards_are_declared(app, export, cohort, files):
    """Only the jury's decisions are declared: an award the service granted alone (before the
    certification jury existed) or one whose session is still a draft is left out."""
    from sqlalchemy import update

    from ltiservice import db
    from ltiservice.models import CertificationAward, JuryDecision, JurySession

    with app.app_context():
        session = db.session()
        dominique = session.get(CertificationAward, cohort["dominique_award"].id)
        draft = session.get(JuryDecision, dominique.jury_decision_id)
        session.execute(
            update(JurySession).where(JurySession.id == draft.session_id).values(status="draft")
        )
        camille = session.get(CertificationAward, cohort["camille_award"].id)
        camille_session = session.get(JuryDecision, camille.jury_decision_id).session_id
        session.commit()

    result = run(export, files, "--session", str(camille_session))
    assert result.exit_code == 0, result.output
    assert "1 passage(s) de certification déclaré(s)" in result.stdout

    with app.app_context():
        db.session().execute(
            update(CertificationAward)
            .where(CertificationAward.id == cohort["camille_award"].id)
            .values(jury_decision_id=None, decision_id=None)
        )
        db.session().commit()
    (files["out"] / "flux.xml").unlink()
    refused = run(export, files)
    assert refused.exit_code == 1
    assert "Aucune certification CRCA attribuée par le jury dans la période" in refused.stderr
    assert not (files["out"] / "flux.xml").exists()
