"""Registration links: the only way an LMS registers itself with the service.

An operator creates a link for one organisation (`ltiservice registrations create`); the LMS
administrator pastes it as the tool URL. The token travels in the path, where Moodle and
Canvas keep it when they append `openid_configuration` and `registration_token`. Only its
SHA-256 is stored, so the database alone cannot be used to register. A use is taken, in one
conditional UPDATE, just before the service calls the platform back; it is given back if that
call fails, so a link is never spent by a registration that did not happen.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ltiservice.errors import NotFoundError, ServiceError
from ltiservice.models import Organisation, Platform, RegistrationLink
from ltiservice.models.tenancy import utcnow

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # token_urlsafe(32)
_DURATION = re.compile(r"^(\d{1,4})([hdw])$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
ASK_OPERATOR = (
    "Demandez un nouveau lien d'enregistrement à l'exploitant du service d'évaluation "
    "(la personne qui administre ltiservice pour votre organisme), puis collez-le comme "
    "URL de l'outil dans votre plateforme."
)


class RegistrationLinkError(ServiceError):
    """The registration link is missing, unknown, expired, used up or revoked."""

    status = 403
    code = "registration_link_invalid"
    title = "Lien d'enregistrement refusé"


@dataclass(frozen=True)
class NewLink:
    link: RegistrationLink
    token: str


def registration_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/lti/register/{token}"


def parse_duration(text: str) -> timedelta:
    """`12h`, `7d`, `2w` → timedelta; ValueError in French otherwise."""
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError("durée attendue sous la forme 12h, 7d ou 2w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def create_link(
    db: Session, organisation: Organisation, valid_for: timedelta, uses: int, note: str | None
) -> NewLink:
    if uses < 1:
        raise ServiceError("Un lien doit permettre au moins un enregistrement.", code="bad_uses")
    token = secrets.token_urlsafe(32)
    link = RegistrationLink(
        organisation_id=organisation.id,
        token_hash=_hash(token),
        note=(note or "").strip()[:255] or None,
        uses_allowed=uses,
        uses=0,
        expires_at=utcnow() + valid_for,
    )
    db.add(link)
    db.flush()
    return NewLink(link, token)


def find_usable_link(db: Session, token: str) -> RegistrationLink:
    """The link this token opens, or RegistrationLinkError saying why not (and whom to ask)."""
    link = db.scalar(select(RegistrationLink).where(RegistrationLink.token_hash == _hash(token)))
    if not _TOKEN.match(token or "") or link is None:
        raise RegistrationLinkError(
            "Ce lien d'enregistrement n'existe pas. " + ASK_OPERATOR,
            code="registration_link_unknown",
        )
    why = unusable_reason(link, utcnow())
    if why:
        raise RegistrationLinkError(
            f"Ce lien d'enregistrement {why}. " + ASK_OPERATOR, code=why_code(link)
        )
    return link


def unusable_reason(link: RegistrationLink, now: datetime) -> str | None:
    if link.revoked_at is not None:
        return "a été révoqué"
    if _aware(link.expires_at) <= now:
        return "a expiré"
    if link.uses >= link.uses_allowed:
        return "a déjà servi"
    return None


def why_code(link: RegistrationLink) -> str:
    if link.revoked_at is not None:
        return "registration_link_revoked"
    if link.uses >= link.uses_allowed:
        return "registration_link_used"
    return "registration_link_expired"


def take_use(db: Session, link_id: int) -> bool:
    """Spend one use, atomically: of two registrations racing for the last use, one wins."""
    result = db.execute(
        update(RegistrationLink)
        .where(
            RegistrationLink.id == link_id,
            RegistrationLink.uses < RegistrationLink.uses_allowed,
            RegistrationLink.revoked_at.is_(None),
            RegistrationLink.expires_at > utcnow(),
        )
        .values(uses=RegistrationLink.uses + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def give_back_use(db: Session, link_id: int) -> None:
    db.execute(
        update(RegistrationLink)
        .where(RegistrationLink.id == link_id, RegistrationLink.uses > 0)
        .values(uses=RegistrationLink.uses - 1)
        .execution_options(synchronize_session=False)
    )


def revoke_link(db: Session, link_id: int, organisation_id: int | None = None) -> RegistrationLink:
    """Revoke a link (of this organisation only, when one is given); idempotent."""
    link = db.get(RegistrationLink, link_id)
    if link is None or organisation_id not in (None, link.organisation_id):
        raise NotFoundError(f"Aucun lien d'enregistrement n° {link_id}.", code="no_such_link")
    if link.revoked_at is None:
        link.revoked_at = utcnow()
    return link


def list_links(db: Session, organisation: Organisation | None = None) -> list[RegistrationLink]:
    query = select(RegistrationLink).order_by(RegistrationLink.id)
    if organisation is not None:
        query = query.where(RegistrationLink.organisation_id == organisation.id)
    return list(db.scalars(query))


def platforms_by_link(db: Session, organisation_id: int) -> dict[int, list[Platform]]:
    """The organisation's platforms that registered through each of its links."""
    found: dict[int, list[Platform]] = {}
    for platform in db.scalars(
        select(Platform)
        .where(
            Platform.organisation_id == organisation_id,
            Platform.registration_link_id.is_not(None),
        )
        .order_by(Platform.id)
    ):
        assert platform.registration_link_id is not None
        found.setdefault(platform.registration_link_id, []).append(platform)
    return found


def _hash(token: str) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    # SQLite hands timezone-aware columns back naive (in UTC).
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)
