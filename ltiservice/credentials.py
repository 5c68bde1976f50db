"""Open Badges 3.0 credentials: one per capitalised block and one per certification the
certification jury awards, signed, revocable.

When the ledger records a block (``events.decision_signed``), the service issues an
``OpenBadgeCredential`` as a JWT-VC (RS256) signed with the tool's current key, through the
maintained library ``openbadgeslib`` (its ``OB3Signer``; no hand-rolled signing). The
credential's achievement is the block (its version-independent xAPI IRI), aligned to the
block's CASE item and carrying the RNCP codes; its subject is the learner's candidature
(``urn:uuid:<registration>``), never a name or an e-mail. Each credential has a bit in the
organisation's Bitstring Status List, served signed at ``status_list_url``; revoking sets it.

The certification's credential (``issue_certification_credential``) is issued when the jury's
signed minutes award it: its achievement is the certification (type ``Certification``),
aligned to the referential's CASE document, with the RNCP code.

The issuer is the organisation, ``<base_url>/credentials/issuers/<slug>`` (an OB 3.0 Profile);
its verification keys are the tool's JWKS (``/lti/jwks``), the same key embedded as ``jwk`` in
each token's header.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from openbadgeslib.ob3 import status_list
from openbadgeslib.ob3.credential import Achievement, Alignment, Issuer, OpenBadgeCredential
from openbadgeslib.ob3.signer import OB3Signer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ltiservice.errors import ServiceError
from ltiservice.grading.case import CASE_PREFIX, case_identifier
from ltiservice.models import (
    CertificationAward,
    IssuedCredential,
    LedgerEntry,
    Organisation,
    Person,
)
from ltiservice.statements import registration, vocabulary

log = logging.getLogger(__name__)

# A served status list is valid this long: a verifier refuses an older copy, so a replayed
# list cannot resurrect a revoked credential.
STATUS_LIST_VALIDITY = timedelta(days=1)


def _base_url() -> str:
    return str(current_app.config["SETTINGS"].base_url).rstrip("/")


def issuer_url(organisation: Organisation) -> str:
    """The organisation as credential issuer (an OB 3.0 Profile served there)."""
    return f"{_base_url()}/credentials/issuers/{organisation.slug}"


def status_list_url(organisation: Organisation) -> str:
    """The organisation's revocation Bitstring Status List."""
    return f"{_base_url()}/credentials/status/{organisation.slug}"


def _private_pem() -> bytes:
    return current_app.extensions["lti_keyring"].current().private_pem  # type: ignore[no-any-return]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _credential_payload(
    achievement: Achievement,
    organisation: Organisation,
    person: Person,
    certification_code: str,
    issued_at: datetime,
    index: int,
    codes: list[str],
) -> dict[str, Any]:
    """The OpenBadgeCredential payload: the organisation issues ``achievement`` to the
    person's candidature, with its revocation bit and the RNCP codes."""
    candidature = registration(person.platform.issuer, person.sub, certification_code)
    credential = OpenBadgeCredential(
        issuer=Issuer(id=issuer_url(organisation), name=organisation.name, url=_base_url()),
        recipient_id=f"urn:uuid:{candidature}",
        achievement=achievement,
        issuance_date=_aware(issued_at),
        credential_status=[
            status_list.status_entry(status_list_url(organisation), "revocation", index)
        ],
    )
    payload = credential.to_jwt_payload()
    if codes:
        payload["credentialSubject"]["achievement"]["otherIdentifier"] = [
            {"type": "IdentifierEntry", "identifier": code, "identifierType": "identifier"}
            for code in codes
        ]
    return payload


def _payload(
    entry: LedgerEntry, organisation: Organisation, person: Person, index: int
) -> dict[str, Any]:
    plugin = current_app.extensions["plugins"][entry.certification_code]
    referential = plugin.referential(entry.referential_version)
    cert, block = referential.certification, referential.block(entry.block_code)
    item = case_identifier(cert.code, referential.version, "block", block.code)
    human_code = block.rncp_block_code or block.code
    achievement = Achievement(
        id=vocabulary().block(cert.code, block.code),
        name=f"{block.code} — {block.title or block.code}",
        description=(
            f"Bloc de compétences {human_code} de la certification {cert.title}"
            f"{f' ({cert.rncp_code})' if cert.rncp_code else ''}, acquis définitivement "
            "(capitalisation) sur décision du jury."
        ),
        criteria_narrative=" ".join(block.evaluation_modalities)
        or "Décision du jury d'évaluation sur les critères du référentiel.",
        achievement_type="Competency",
        alignments=[
            Alignment(
                target_name=block.title or block.code,
                target_url=f"{_base_url()}{CASE_PREFIX}/CFItems/{item}",
                target_framework=f"{cert.title} ({referential.version})",
                target_code=human_code,
            )
        ],
    )
    codes = [code for code in (cert.rncp_code, block.rncp_block_code) if code]
    return _credential_payload(
        achievement, organisation, person, cert.code, entry.acquired_at, index, codes
    )


def _certification_payload(
    award: CertificationAward, organisation: Organisation, person: Person, index: int
) -> dict[str, Any]:
    plugin = current_app.extensions["plugins"][award.certification_code]
    referential = plugin.referential(award.referential_version)
    cert = referential.certification
    document = case_identifier(cert.code, referential.version, "document")
    jury = referential.certification_jury
    achievement = Achievement(
        id=vocabulary().certification(cert.code),
        name=cert.title,
        description=(
            f"Certification {cert.title}{f' ({cert.rncp_code})' if cert.rncp_code else ''}, "
            f"attribuée par le {jury.label}."
        ),
        criteria_narrative=(
            f"Décision du {jury.label} sur les blocs de compétences acquis (référentiel "
            f"{referential.version})."
        ),
        achievement_type="Certification",
        alignments=[
            Alignment(
                target_name=cert.title,
                target_url=f"{_base_url()}{CASE_PREFIX}/CFDocuments/{document}",
                target_framework=f"{cert.title} ({referential.version})",
                target_code=cert.rncp_code or cert.code,
            )
        ],
    )
    codes = [cert.rncp_code] if cert.rncp_code else []
    return _credential_payload(
        achievement, organisation, person, cert.code, award.granted_at, index, codes
    )


def _next_index(db: Session, organisation: Organisation) -> int:
    index = (
        db.scalar(
            select(func.max(IssuedCredential.status_index)).where(
                IssuedCredential.organisation_id == organisation.id
            )
        )
        or 0
    ) + 1
    if index >= status_list.DEFAULT_SIZE_BITS:
        raise ValueError(f"the status list of {organisation.slug} is full")
    return index


def _store(
    db: Session, organisation: Organisation, person: Person, payload: dict[str, Any], **row: Any
) -> IssuedCredential:
    token = OB3Signer(_private_pem(), "RS256").sign_payload(payload)
    issued = IssuedCredential(
        organisation_id=organisation.id,
        person_id=person.id,
        credential_id=str(payload["jti"]),
        token=token,
        **row,
    )
    db.add(issued)
    db.flush()
    return issued


def issue_block_credential(db: Session, entry: LedgerEntry) -> IssuedCredential:
    """Sign and store the credential of a ledger entry (in the caller's transaction)."""
    organisation = db.get(Organisation, entry.organisation_id)
    person = db.get(Person, entry.person_id)
    if organisation is None or person is None:
        raise LookupError(f"ledger entry {entry.id} has no organisation or person")
    index = _next_index(db, organisation)
    payload = _payload(entry, organisation, person, index)
    return _store(db, organisation, person, payload, ledger_entry_id=entry.id, status_index=index)


def issue_certification_credential(db: Session, award: CertificationAward) -> IssuedCredential:
    """Sign and store the credential of the certification jury's award (caller's transaction).
    An award the service granted alone, before the jury (no ``jury_decision_id``), gets none."""
    if award.jury_decision_id is None:
        raise ValueError(f"award {award.id} was not granted by a certification jury")
    organisation = db.get(Organisation, award.organisation_id)
    person = db.get(Person, award.person_id)
    if organisation is None or person is None:
        raise LookupError(f"award {award.id} has no organisation or person")
    index = _next_index(db, organisation)
    payload = _certification_payload(award, organisation, person, index)
    return _store(db, organisation, person, payload, award_id=award.id, status_index=index)


def credential_issued(db: Session, entry: LedgerEntry) -> None:
    """Issue the block's credential; a failure is logged and never undoes the jury's decision
    (``ltiservice credentials issue-missing`` issues it later)."""
    try:
        with db.begin_nested():
            issue_block_credential(db, entry)
    except (ValueError, LookupError, OSError) as exc:
        log.error("credential of ledger entry %s not issued: %s", entry.id, type(exc).__name__)


def certification_credential_issued(db: Session, award: CertificationAward) -> None:
    """Issue the certification's credential; a failure is logged and never undoes the jury's
    decision (``ltiservice credentials issue-missing`` issues it later)."""
    try:
        with db.begin_nested():
            issue_certification_credential(db, award)
    except (ValueError, LookupError, OSError) as exc:
        log.error("credential of award %s not issued: %s", award.id, type(exc).__name__)


def issue_missing(db: Session) -> int:
    """Issue the credentials of ledger entries and jury awards that have none; the number."""
    missing = db.scalars(
        select(LedgerEntry)
        .outerjoin(IssuedCredential, IssuedCredential.ledger_entry_id == LedgerEntry.id)
        .where(IssuedCredential.id.is_(None))
        .order_by(LedgerEntry.id)
    ).all()
    for entry in missing:
        issue_block_credential(db, entry)
    awards = db.scalars(
        select(CertificationAward)
        .outerjoin(IssuedCredential, IssuedCredential.award_id == CertificationAward.id)
        .where(IssuedCredential.id.is_(None), CertificationAward.jury_decision_id.is_not(None))
        .order_by(CertificationAward.id)
    ).all()
    for award in awards:
        issue_certification_credential(db, award)
    return len(missing) + len(awards)


def revoke(
    db: Session, credential_id: int, reason: str, at: datetime | None = None
) -> IssuedCredential:
    """Set the credential's bit in its organisation's status list (idempotent)."""
    issued = db.get(IssuedCredential, credential_id)
    if issued is None:
        raise ServiceError("Attestation introuvable.", code="credential_not_found", status=404)
    if not reason.strip():
        raise ServiceError(
            "Indiquez le motif de la révocation.", code="reason_required", status=422
        )
    if issued.revoked_at is None:
        issued.revoked_at = at or datetime.now(UTC)
        issued.revocation_reason = reason.strip()
    return issued


def status_list_token(db: Session, organisation: Organisation, now: datetime | None = None) -> str:
    """The organisation's revocation list as a signed BitstringStatusListCredential (JWT)."""
    moment = now or datetime.now(UTC)
    revoked = db.scalars(
        select(IssuedCredential.status_index).where(
            IssuedCredential.organisation_id == organisation.id,
            IssuedCredential.revoked_at.is_not(None),
        )
    ).all()
    document = status_list.build_status_list_credential(
        issuer_url(organisation),
        status_list_url(organisation),
        "revocation",
        revoked,
        issued=moment,
        valid_until=moment + STATUS_LIST_VALIDITY,
    )
    return status_list.sign_status_list_credential(document, _private_pem(), "RS256")


def certification_credential_of(
    db: Session, person_id: int, certification_code: str
) -> IssuedCredential | None:
    """The person's credential of the certification itself, if the jury awarded it."""
    return db.scalar(
        select(IssuedCredential)
        .join(CertificationAward, IssuedCredential.award_id == CertificationAward.id)
        .where(
            IssuedCredential.person_id == person_id,
            CertificationAward.certification_code == certification_code,
        )
    )


def credentials_of(db: Session, person_id: int, certification_code: str) -> list[IssuedCredential]:
    """A person's block credentials in one certification, oldest first."""
    return list(
        db.scalars(
            select(IssuedCredential)
            .join(LedgerEntry, IssuedCredential.ledger_entry_id == LedgerEntry.id)
            .where(
                IssuedCredential.person_id == person_id,
                LedgerEntry.certification_code == certification_code,
            )
            .order_by(IssuedCredential.id)
        )
    )
