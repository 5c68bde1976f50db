"""LRS destinations: where an organisation's xAPI statements go, with credentials kept secret.

The Basic-auth password is encrypted at rest with Fernet; the key is derived from the
application's ``SECRET_KEY`` with HKDF (a separate ``info`` label, so the key is used for this
purpose only). Rotating ``SECRET_KEY`` therefore requires re-entering the LRS passwords
(``ltiservice lrs remove`` then ``add``): a token that no longer decrypts is reported as such.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ltiservice.errors import ConflictError, NotFoundError, ServiceError
from ltiservice.models import LrsDestination, Organisation, OutboxMessage
from ltiservice.net.outbound import AddressRefusedError

KINDS = ("organisation", "branch")
_HKDF_SALT = b"ltiservice/lrs-destination"
_HKDF_INFO = b"lrs-destination-secret:v1"


class SecretError(ServiceError):
    """A stored secret cannot be decrypted (the application's secret key changed)."""


def _fernet(secret_key: str) -> Fernet:
    if not secret_key:
        raise SecretError("SECRET_KEY manquante : impossible de chiffrer le mot de passe du LRS.")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(secret_key: str, clear: str) -> str:
    """The Fernet token of ``clear`` under the key derived from ``secret_key``."""
    return _fernet(secret_key).encrypt(clear.encode()).decode()


def decrypt_secret(secret_key: str, token: str) -> str:
    """The clear password; ``SecretError`` when the key changed since it was stored."""
    try:
        return _fernet(secret_key).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretError(
            "Le mot de passe du LRS ne peut pas être déchiffré (la clé secrète de l'application "
            "a changé) : supprimez puis ajoutez de nouveau cette destination."
        ) from exc


@dataclass(frozen=True)
class DestinationSpec:
    """What an administrator gives to add a destination."""

    organisation_slug: str
    name: str
    endpoint: str
    username: str
    password: str
    kind: str = "organisation"


def add_destination(db: Session, secret_key: str, spec: DestinationSpec) -> LrsDestination:
    """Store a new destination (password encrypted); names are unique per organisation."""
    organisation = db.scalar(
        select(Organisation).where(Organisation.slug == spec.organisation_slug)
    )
    if organisation is None:
        raise NotFoundError(f"Aucun organisme n'a le slug « {spec.organisation_slug} ».")
    if spec.kind not in KINDS:
        raise ServiceError(
            f"Type de destination inconnu « {spec.kind} » (attendu : {', '.join(KINDS)})."
        )
    parts = urlsplit(spec.endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ServiceError(f"Adresse du LRS invalide : « {spec.endpoint} » (http(s)://…/xAPI).")
    if not spec.password:
        raise ServiceError("Le mot de passe du LRS est vide.")
    taken = db.scalar(
        select(LrsDestination).where(
            LrsDestination.organisation_id == organisation.id, LrsDestination.name == spec.name
        )
    )
    if taken is not None:
        raise ConflictError(f"L'organisme a déjà une destination nommée « {spec.name} ».")
    destination = LrsDestination(
        organisation_id=organisation.id,
        name=spec.name,
        endpoint=spec.endpoint.rstrip("/"),
        username=spec.username,
        secret=encrypt_secret(secret_key, spec.password),
        kind=spec.kind,
        active=True,
    )
    db.add(destination)
    db.flush()
    return destination


def find_destination(
    db: Session, destination_id: int, organisation_id: int | None = None
) -> LrsDestination:
    """The destination with this id (of this organisation, when given), or ``NotFoundError``."""
    destination = db.get(LrsDestination, destination_id)
    if destination is None or organisation_id not in (None, destination.organisation_id):
        raise NotFoundError(f"Aucune destination LRS n'a l'identifiant {destination_id}.")
    return destination


def active_destinations(db: Session, organisation_id: int) -> list[LrsDestination]:
    """The organisation's destinations that receive new statements, by id."""
    return list(
        db.scalars(
            select(LrsDestination)
            .where(LrsDestination.organisation_id == organisation_id, LrsDestination.active)
            .order_by(LrsDestination.id)
        )
    )


def destinations_of(db: Session, organisation_id: int | None = None) -> list[LrsDestination]:
    """Destinations, active or paused, by id; one organisation's when it is given."""
    query = select(LrsDestination).order_by(LrsDestination.organisation_id, LrsDestination.id)
    if organisation_id is not None:
        query = query.where(LrsDestination.organisation_id == organisation_id)
    return list(db.scalars(query))


def set_active(db: Session, destination: LrsDestination, active: bool) -> bool:
    """Pause or resume a destination; True when that changed its state.

    A paused destination receives no new statements; what is already queued stays queued.
    """
    changed = destination.active != active
    destination.active = active
    db.flush()
    return changed


def outbox_destination(destination_id: int) -> str:
    """The outbox ``destination`` of the statements queued for this LRS."""
    return f"lrs:{destination_id}"


def remove_destination(db: Session, destination: LrsDestination) -> int:
    """Delete the destination; its undelivered statements become dead (with the reason).

    Returns how many queued statements were dropped that way.
    """
    dropped = db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.destination == outbox_destination(destination.id),
            OutboxMessage.status == "pending",
        )
        .values(status="dead", last_error="destination LRS supprimée")
    )
    db.delete(destination)
    return int(dropped.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ProbeResult:
    """Outcome of ``probe``: ok, the HTTP status (None: no answer) and a French message."""

    ok: bool
    status: int | None
    message: str


def probe(
    secret_key: str, destination: LrsDestination, http: requests.Session, timeout: float = 10.0
) -> ProbeResult:
    """A real, read-only call: GET ``statements?limit=1`` with the stored credentials."""
    password = decrypt_secret(secret_key, destination.secret)
    try:
        response = http.get(
            destination.endpoint + "/statements",
            params={"limit": "1"},
            auth=(destination.username, password),
            headers={"X-Experience-API-Version": "1.0.3"},
            timeout=timeout,
        )
    except requests.RequestException as exc:
        if isinstance(exc, AddressRefusedError):
            return ProbeResult(False, None, "Adresse du LRS refusée : réseau privé ou local.")
        return ProbeResult(False, None, f"LRS injoignable ({type(exc).__name__}).")
    with response:
        status = response.status_code
    if status == 200:
        return ProbeResult(True, status, "Connexion réussie : le LRS accepte nos identifiants.")
    if status in (401, 403):
        return ProbeResult(False, status, f"Identifiants refusés par le LRS (HTTP {status}).")
    return ProbeResult(False, status, f"Réponse inattendue du LRS (HTTP {status}).")
