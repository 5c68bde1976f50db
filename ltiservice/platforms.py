"""Platform registrations: one service used by the CLI, config files and dynamic registration."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ltiservice.errors import ConflictError, NotFoundError, ServiceError
from ltiservice.models import Deployment, Organisation, Platform


@dataclass(frozen=True)
class PlatformSpec:
    """What is needed to register a platform, whatever the channel."""

    organisation: str
    name: str
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    deployment_ids: tuple[str, ...] = ()
    auth_audience: str | None = None
    product_family: str | None = None
    source: str = "cli"
    registration: dict[str, Any] | None = field(default=None, compare=False)

    def check(self) -> None:
        """Refuse a spec with a missing or malformed field, naming it."""
        for name in ("organisation", "name", "issuer", "client_id"):
            if not getattr(self, name):
                raise ServiceError(f"Champ obligatoire manquant : {name}.", code="invalid_platform")
        for name in ("issuer", "auth_login_url", "auth_token_url", "key_set_url"):
            parts = urlsplit(getattr(self, name) or "")
            if parts.scheme not in {"http", "https"} or not parts.netloc:
                raise ServiceError(
                    f"{name} doit être une URL http(s) absolue.",
                    code="invalid_platform",
                    details={"field": name},
                )


def get_or_create_organisation(db: Session, slug: str, name: str | None = None) -> Organisation:
    organisation = db.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        organisation = Organisation(slug=slug, name=name or slug)
        db.add(organisation)
        db.flush()
    return organisation


def add_platform(db: Session, spec: PlatformSpec) -> Platform:
    """Register a platform and its deployments; refuses a duplicate (issuer, client_id)."""
    spec.check()
    if db.scalar(
        select(Platform).where(Platform.issuer == spec.issuer, Platform.client_id == spec.client_id)
    ):
        raise ConflictError(
            f"Une plateforme est déjà enregistrée pour {spec.issuer} / {spec.client_id}.",
            code="platform_exists",
        )
    organisation = get_or_create_organisation(db, spec.organisation)
    platform = Platform(
        organisation_id=organisation.id,
        name=spec.name,
        issuer=spec.issuer,
        client_id=spec.client_id,
        auth_login_url=spec.auth_login_url,
        auth_token_url=spec.auth_token_url,
        key_set_url=spec.key_set_url,
        auth_audience=spec.auth_audience,
        product_family=spec.product_family,
        source=spec.source,
        registration=spec.registration,
    )
    platform.deployments = [Deployment(deployment_id=d) for d in dict.fromkeys(spec.deployment_ids)]
    db.add(platform)
    try:
        db.flush()
    except IntegrityError as exc:
        raise ConflictError(
            "Cette plateforme vient d'être enregistrée par ailleurs.", code="platform_exists"
        ) from exc
    return platform


def add_deployment(db: Session, platform: Platform, deployment_id: str) -> Deployment:
    for existing in platform.deployments:
        if existing.deployment_id == deployment_id:
            return existing
    deployment = Deployment(deployment_id=deployment_id)
    platform.deployments.append(deployment)
    db.flush()
    return deployment


def find_platform(db: Session, ref: str, organisation_id: int | None = None) -> Platform:
    """A platform by numeric id (of this organisation only, when one is given)."""
    platform = db.get(Platform, int(ref)) if ref.isdigit() else None
    if platform is None or organisation_id not in (None, platform.organisation_id):
        raise NotFoundError(f"Aucune plateforme n'a l'identifiant {ref}.")
    return platform


def platforms_of(db: Session, organisation_id: int | None = None) -> list[Platform]:
    """Registered platforms, by id; one organisation's when it is given."""
    query = select(Platform).order_by(Platform.id)
    if organisation_id is not None:
        query = query.where(Platform.organisation_id == organisation_id)
    return list(db.scalars(query))


def approve_platform(db: Session, platform: Platform) -> bool:
    """Accept a pending (dynamically registered) platform's launches; False if already active."""
    was_pending = platform.status != "active"
    platform.status = "active"
    db.flush()
    return was_pending


def remove_platform(db: Session, platform: Platform) -> None:
    db.delete(platform)
    db.flush()


def load_specs(path: Path) -> list[PlatformSpec]:
    """Platforms from a JSON file (a list of objects with PlatformSpec's fields)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ServiceError(f"{path} : lecture impossible ({exc.strerror}).") from exc
    except ValueError as exc:
        raise ServiceError(f"{path} : JSON invalide ({exc}).") from exc
    if not isinstance(data, list):
        raise ServiceError(f"{path} : une liste de plateformes est attendue.")
    specs = []
    allowed = set(PlatformSpec.__dataclass_fields__) - {"source", "registration"}
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise ServiceError(f"{path} [{index}] : un objet est attendu.")
        unknown = sorted(set(item) - allowed)
        if unknown:
            raise ServiceError(f"{path} [{index}] : champ(s) inconnu(s) {', '.join(unknown)}.")
        try:
            spec = PlatformSpec(
                **{
                    **item,
                    "deployment_ids": tuple(item.get("deployment_ids", ())),
                    "source": "file",
                }
            )
        except TypeError as exc:
            raise ServiceError(f"{path} [{index}] : {exc}.") from exc
        spec.check()
        specs.append(spec)
    return specs
