"""CDC "accrochage certificateurs" XML: the certified holders declared to the SI CPF.

One ``passageCertification`` per CertificationAward the certification jury granted in the
period, or in one jury session (whole-certification passages: the XSD has no element for a
block), grouped by RNCP code. Awards without a jury decision (granted by the service alone
before migration 0011) are never declared: only the jury has that power. The document is built with
lxml in the ``urn:cdc:cpf:pc5:schema:1.0.0`` namespace and validated against the XSD of the
configured version (``Settings.cdc_xsd_version``) BEFORE anything is written.

``idTechnique`` is ``ltiservice-award-<award id>``: stable for an award, so the CDC's
acknowledgements reconcile with our rows. Civil status comes from `identities` only.
"""

from __future__ import annotations

import datetime as dt
import tomllib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from ltiservice.exports.identities import (
    MODALITES_ACCES,
    Identity,
    check_cohort,
    load_identities,
    parse_identities,
)
from ltiservice.exports.records import Scope
from ltiservice.exports.scope import PARIS, ExportError, paris_day
from ltiservice.grading.interface import Referential
from ltiservice.grading.registration import last_delivery_day, registration_status
from ltiservice.models import (
    CertificationAward,
    Decision,
    Evaluation,
    JuryDecision,
    JurySession,
    LedgerEntry,
    Person,
    Platform,
)

NS = "urn:cdc:cpf:pc5:schema:1.0.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"cpf": NS, "xsi": XSI}


# -- the sender's identifiers ------------------------------------------------------------------


@dataclass(frozen=True)
class Sender:
    """Who declares: identifiers the CDC gave the organisation and the certifier."""

    id_client_emetteur: str
    id_client_certificateur: str
    id_contrat: str
    nature_deposant: str | None = "CERTIFICATEUR"
    obtention: str = "PAR_ADMISSION"
    modalite_passage_examen: str | None = None
    code_postal_centre_examen: str | None = None
    duree_validite_annees: int = 0  # 0: unlimited (dateFinValidite xsi:nil)


_SENDER_CHECKS = {
    "id_client_emetteur": (lambda v: isinstance(v, str) and len(v) == 8, "8 caractères"),
    "id_client_certificateur": (lambda v: isinstance(v, str) and len(v) == 8, "8 caractères"),
    "id_contrat": (lambda v: isinstance(v, str) and 1 <= len(v) <= 20, "1 à 20 caractères"),
    "nature_deposant": (
        lambda v: v in {"CERTIFICATEUR", "TIERS_CONFIANCE"},
        "CERTIFICATEUR ou TIERS_CONFIANCE",
    ),
    "obtention": (lambda v: v in {"PAR_ADMISSION", "PAR_SCORING"}, "PAR_ADMISSION ou PAR_SCORING"),
    "modalite_passage_examen": (
        lambda v: v in {"A_DISTANCE", "EN_PRESENTIEL", "MIXTE"},
        "A_DISTANCE, EN_PRESENTIEL ou MIXTE",
    ),
    "code_postal_centre_examen": (
        lambda v: isinstance(v, str) and 1 <= len(v) <= 9,
        "1 à 9 caractères",
    ),
    "duree_validite_annees": (lambda v: isinstance(v, int) and v >= 0, "entier positif ou 0"),
}


def load_sender(path: Path) -> Sender:
    """Read the organisation's accrochage settings (config/accrochage.example.toml)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(f"Fichier de configuration introuvable : {path}.") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ExportError(f"Fichier de configuration {path} illisible : {exc}.") from None
    unknown = sorted(set(data) - set(_SENDER_CHECKS))
    if unknown:
        raise ExportError(f"{path} : réglage(s) inconnu(s) {', '.join(unknown)}.")
    for name in ("id_client_emetteur", "id_client_certificateur", "id_contrat"):
        if name not in data:
            raise ExportError(f"{path} : réglage « {name} » manquant.")
    for name, value in data.items():
        check, expected = _SENDER_CHECKS[name]
        if not check(value):
            raise ExportError(f"{path} : réglage « {name} » invalide ({expected}).")
    return Sender(**data)


# -- the cohort --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Passage:
    """One awarded certification, with what the XML needs besides civil status."""

    award_id: int
    key: tuple[str, str]  # (issuer, sub)
    rncp_code: str
    granted_on: dt.date
    exam_start: dt.date
    exam_end: dt.date


def cohort(db: Session, scope: Scope, session_id: int | None = None) -> list[Passage]:
    """The awards the certification jury granted in the period (or in one signed session),
    in the organisation, oldest first."""
    stmt = (
        select(CertificationAward, Person.sub, Platform.issuer)
        .join(Person, CertificationAward.person_id == Person.id)
        .join(Platform, Person.platform_id == Platform.id)
        .join(JuryDecision, CertificationAward.jury_decision_id == JuryDecision.id)
        .join(JurySession, JuryDecision.session_id == JurySession.id)
        .where(
            CertificationAward.organisation_id == scope.organisation_id,
            Platform.organisation_id == scope.organisation_id,
            CertificationAward.certification_code == scope.certification_code,
            JurySession.status == "signed",
        )
        .order_by(CertificationAward.granted_at, CertificationAward.id)
    )
    if session_id is not None:
        stmt = stmt.where(JuryDecision.session_id == session_id)
    if scope.period.start is not None:
        stmt = stmt.where(CertificationAward.granted_at >= scope.period.start)
    if scope.period.end is not None:
        stmt = stmt.where(CertificationAward.granted_at < scope.period.end)
    passages = []
    for award, sub, issuer in db.execute(stmt):
        referential = scope.plugin.referentials.get(award.referential_version)
        rncp = referential.certification.rncp_code if referential else None
        if not rncp:
            raise ExportError(
                f"Certification {award.certification_code} version {award.referential_version} "
                "sans code RNCP connu : impossible de la déclarer."
            )
        start, end = _exam_dates(db, scope, award)
        passages.append(
            Passage(award.id, (issuer, sub), rncp, paris_day(award.granted_at), start, end)
        )
    return passages


def _exam_dates(db: Session, scope: Scope, award: CertificationAward) -> tuple[dt.date, dt.date]:
    """From the first evaluation session of the blocks the holder acquired to the certification
    jury session that awarded the certification."""
    decisions = (
        select(Decision.id, Decision.submission_id, Decision.decided_at)
        .join(LedgerEntry, LedgerEntry.decision_id == Decision.id)
        .where(
            LedgerEntry.organisation_id == scope.organisation_id,
            LedgerEntry.person_id == award.person_id,
            LedgerEntry.certification_code == award.certification_code,
        )
    )
    rows = db.execute(decisions).all()
    days = {paris_day(row.decided_at) for row in rows}
    sessions = db.scalars(
        select(Evaluation.session_dates).where(
            Evaluation.submission_id.in_([row.submission_id for row in rows]),
            Evaluation.status == "signed",
        )
    )
    session_days = {dt.date.fromisoformat(d) for dates in sessions for d in dates or []}
    days = session_days or days or {paris_day(award.granted_at)}
    jury_day = db.scalar(
        select(JurySession.held_on)
        .join(JuryDecision, JuryDecision.session_id == JurySession.id)
        .where(JuryDecision.id == award.jury_decision_id)
    )
    if jury_day is not None:
        days.add(jury_day)
    return min(days), max(days)


# -- the document ------------------------------------------------------------------------------


def _el(parent: etree._Element, name: str, text: Any = None, *, nil: bool = False) -> Any:
    element = etree.SubElement(parent, f"{{{NS}}}{name}")
    if nil:
        element.set(f"{{{XSI}}}nil", "true")
    elif text is not None:
        element.text = str(text)
    return element


def build_flux(
    sender: Sender,
    passages: Iterable[Passage],
    identities: dict[tuple[str, str], Identity],
    now: dt.datetime,
    flux_id: str | None = None,
) -> etree._ElementTree:
    """The whole ``cpf:flux`` document (pure: no database, no disk)."""
    root = etree.Element(f"{{{NS}}}flux", nsmap=NSMAP)  # type: ignore[arg-type]
    _el(root, "idFlux", flux_id or f"ltiservice-{uuid.uuid4()}")
    _el(root, "horodatage", now.astimezone(PARIS).replace(microsecond=0).isoformat())
    emetteur = _el(root, "emetteur")
    _el(emetteur, "idClient", sender.id_client_emetteur)
    certificateur = _el(_el(emetteur, "certificateurs"), "certificateur")
    _el(certificateur, "idClient", sender.id_client_certificateur)
    _el(certificateur, "idContrat", sender.id_contrat)
    certifications = _el(certificateur, "certifications")
    by_code: dict[str, Any] = {}
    for passage in passages:
        if passage.rncp_code not in by_code:
            certification = _el(certifications, "certification")
            _el(certification, "type", "RNCP")
            _el(certification, "code", passage.rncp_code)
            if sender.nature_deposant:
                _el(certification, "natureDeposant", sender.nature_deposant)
            by_code[passage.rncp_code] = _el(certification, "passageCertifications")
        _passage(by_code[passage.rncp_code], sender, passage, identities[passage.key])
    return etree.ElementTree(root)


def _passage(parent: Any, sender: Sender, passage: Passage, identity: Identity) -> None:
    element = _el(parent, "passageCertification")
    _el(element, "idTechnique", f"ltiservice-award-{passage.award_id}")
    _el(element, "obtentionCertification", sender.obtention)
    _el(element, "donneeCertifiee", "true")
    _el(element, "dateDebutExamen", passage.exam_start.isoformat())
    _el(element, "dateFinExamen", passage.exam_end.isoformat())
    if sender.modalite_passage_examen:
        _el(element, "modalitePassageExamen", sender.modalite_passage_examen)
    if sender.code_postal_centre_examen:
        _el(element, "codePostalCentreExamen", sender.code_postal_centre_examen)
    _el(element, "dateDebutValidite", passage.granted_on.isoformat())
    if sender.duree_validite_annees:
        end = _add_years(passage.granted_on, sender.duree_validite_annees)
        _el(element, "dateFinValidite", end.isoformat())
    else:
        _el(element, "dateFinValidite", nil=True)
    _el(element, "presenceNiveauLangueEuro", "false")
    _el(element, "presenceNiveauNumeriqueEuro", "false")
    _el(element, "scoring", nil=True)
    _el(element, "mentionValidee", nil=True)
    inscription = _el(element, "modalitesInscription")
    access = identity.get("modalite_acces")
    _el(inscription, "modaliteAcces", access, nil=access not in MODALITES_ACCES)
    if identity.get("date_inscription"):
        _el(inscription, "dateInscription", identity.get("date_inscription"))
    _titulaire(_el(_el(element, "identificationTitulaire"), "titulaire"), identity)


def _titulaire(element: Any, identity: Identity) -> None:
    _el(element, "nomNaissance", identity.get("nom_naissance"))
    usage = identity.get("nom_usage")
    _el(element, "nomUsage", usage, nil=usage is None)
    for name, column in (("prenom1", "prenom1"), ("prenom2", "prenom2"), ("prenom3", "prenom3")):
        if identity.get(column) or name == "prenom1":
            _el(element, name, identity.get(column))
    _el(element, "anneeNaissance", identity.get("annee_naissance"))
    for name, column in (("moisNaissance", "mois_naissance"), ("jourNaissance", "jour_naissance")):
        value = identity.get(column)
        _el(element, name, int(value) if value else None, nil=value is None)
    _el(element, "sexe", identity.get("sexe"))
    commune = _el(element, "codeCommuneNaissance")
    insee = identity.get("code_insee_naissance")
    if insee:
        _el(_el(commune, "codeInseeNaissance"), "codeInsee", insee)
    else:
        _el(
            _el(commune, "codePostalNaissance"), "codePostal", identity.get("code_postal_naissance")
        )
    for name, column in (
        ("libelleCommuneNaissance", "libelle_commune_naissance"),
        ("codePaysNaissance", "code_pays_naissance"),
        ("libellePaysNaissance", "libelle_pays_naissance"),
    ):
        if identity.get(column):
            _el(element, name, identity.get(column))


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# -- validation and the whole export -----------------------------------------------------------


def load_schema(version: str) -> etree.XMLSchema:
    """The CDC XSD of this version, shipped as package data; unknown version -> ExportError."""
    data = resources.files("ltiservice.exports") / "data"
    name = f"cdc-accrochage-cpf-{version}.xsd"
    if not (data / name).is_file():
        known = sorted(
            p.name.removeprefix("cdc-accrochage-cpf-").removesuffix(".xsd")
            for p in data.iterdir()
            if p.name.endswith(".xsd")
        )
        raise ExportError(
            f"Version du XSD CDC inconnue : « {version} » (réglage cdc_xsd_version ; "
            f"versions disponibles : {', '.join(known)})."
        )
    return etree.XMLSchema(etree.fromstring((data / name).read_bytes()))


def validate(document: etree._ElementTree, schema: etree.XMLSchema, version: str) -> None:
    """Raise an ExportError listing the schema errors; values under the holder are hidden."""
    if schema.validate(document):
        return
    problems = []
    for error in list(schema.error_log)[:20]:
        if "identificationTitulaire" in (error.path or "") or "modalitesInscription" in (
            error.path or ""
        ):
            problems.append(f"{error.path} : valeur refusée par le schéma")
        else:
            problems.append(f"{error.path} : {error.message}")
    listed = "\n  - ".join(problems)
    raise ExportError(f"Flux refusé par le XSD CDC {version}, rien n'a été écrit :\n  - {listed}")


def check_deliverable(referential: Referential, on: dt.date) -> None:
    """Refuse (ExportError) a delivery on day ``on`` that the law forbids: none after the
    fiche's « date de dernière délivrance possible », or after the end of registration when the
    fiche states no such date (grading/registration.py)."""
    status = registration_status(referential, on)
    if status.deliverable:
        return
    certification = referential.certification
    last = last_delivery_day(referential)
    assert last is not None  # a referential without any date is always deliverable
    which = (
        "date de dernière délivrance possible"
        if status.last_delivery_date
        else "fin d'enregistrement, la fiche ne donnant pas de date de dernière délivrance"
    )
    raise ExportError(
        f"Certification {certification.rncp_code or certification.code} : aucune délivrance "
        f"n'est possible après le {last.strftime('%d/%m/%Y')} ({which}) ; aucun fichier écrit."
    )


def _check_passages(scope: Scope, passages: Iterable[Passage]) -> None:
    """Each award was delivered on a day its referential version could still be delivered."""
    by_rncp = {r.certification.rncp_code: r for r in scope.plugin.referentials.values()}
    for passage in passages:
        referential = by_rncp.get(passage.rncp_code)
        if referential is not None:
            check_deliverable(referential, passage.granted_on)


def build_accrochage(
    db: Session,
    scope: Scope,
    sender: Sender,
    identities_path: Path | str,
    xsd_version: str,
    now: dt.datetime | None = None,
    session_id: int | None = None,
) -> tuple[bytes, int]:
    """The validated XML document and its passage count; raises ExportError, writes nothing.

    ``identities_path`` is the civil-status CSV's path, or its text (a file sent from the
    browser): either way it is read, used and dropped.
    """
    check_deliverable(
        scope.plugin.current, (now or dt.datetime.now(PARIS)).astimezone(PARIS).date()
    )
    schema = load_schema(xsd_version)
    passages = cohort(db, scope, session_id)
    if not passages:
        where = "dans cette session" if session_id is not None else "dans la période"
        raise ExportError(
            f"Aucune certification {scope.certification_code} attribuée par le jury {where} : "
            "rien à déclarer, aucun fichier écrit."
        )
    _check_passages(scope, passages)
    identities = (
        load_identities(identities_path)
        if isinstance(identities_path, Path)
        else parse_identities(identities_path)
    )
    check_cohort([p.key for p in passages], identities)
    document = build_flux(sender, passages, identities, now or dt.datetime.now(PARIS))
    validate(document, schema, xsd_version)
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True), len(
        passages
    )
