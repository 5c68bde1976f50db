"""pylti1p3 tool configuration read from the Platform and Deployment tables."""

from __future__ import annotations

from typing import Any

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ltiservice.lti.keys import KeyRing
from ltiservice.models import Deployment, Platform

# Built once: composing a SQLAlchemy expression costs more CPU than running the cached query.
# A platform waiting for an operator's approval launches nothing.
_PLATFORM = select(Platform).where(
    Platform.issuer == bindparam("iss"),
    Platform.client_id == bindparam("client_id"),
    Platform.status == "active",
)
_DEPLOYMENT = select(Deployment.deployment_id).where(
    Deployment.platform_id == bindparam("platform_id"),
    Deployment.deployment_id == bindparam("deployment_id"),
)


def is_pending(db: Session, iss: str, client_id: str | None) -> bool:
    """True when this registration exists but waits for an operator's approval."""
    if not iss or not client_id:
        return False
    status = db.scalar(
        select(Platform.status).where(Platform.issuer == iss, Platform.client_id == client_id)
    )
    return status == "pending"


class ToolRegistration(Registration):
    """A registration that signs with our current key and announces its kid."""

    def __init__(self, platform: Platform, kid: str) -> None:
        super().__init__()
        self.platform_id = platform.id
        self.organisation_id = platform.organisation_id
        self._kid = kid

    def get_kid(self) -> str | None:
        return self._kid


class DatabaseToolConf(ToolConfAbstract[Any]):
    """Registrations keyed by (issuer, client_id): one issuer may have many clients (Canvas)."""

    def __init__(self, db: Session, keyring: KeyRing) -> None:
        super().__init__()
        self._db = db
        self._keyring = keyring
        self.issuers_relation_types = _ManyClientsEverywhere()
        # One conf per request: registration, deployment and view ask for the same row.
        self._platforms: dict[tuple[str, str], Platform | None] = {}

    def find_platform(self, iss: str, client_id: str | None) -> Platform | None:
        if not iss or not client_id:
            return None
        if (iss, client_id) not in self._platforms:
            self._platforms[iss, client_id] = self._db.scalar(
                _PLATFORM, {"iss": iss, "client_id": client_id}
            )
        return self._platforms[iss, client_id]

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        raise NotImplementedError("registrations are looked up by issuer and client_id")

    def find_registration_by_params(  # type: ignore[override] # pylti1p3 itself tests for None
        self, iss: str, client_id: str, *args: Any, **kwargs: Any
    ) -> ToolRegistration | None:
        platform = self.find_platform(iss, client_id)
        if platform is None:
            return None
        key = self._keyring.current()
        registration = ToolRegistration(platform, key.kid)
        registration.set_issuer(platform.issuer).set_client_id(platform.client_id)
        registration.set_auth_login_url(platform.auth_login_url)
        registration.set_auth_token_url(platform.auth_token_url)
        if platform.auth_audience:
            registration.set_auth_audience(platform.auth_audience)
        registration.set_key_set_url(platform.key_set_url)
        registration.set_tool_private_key(key.private_pem.decode())
        return registration

    def find_deployment(self, iss: str, deployment_id: str) -> LtiDeployment | None:
        raise NotImplementedError("deployments are looked up with their client_id")

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> LtiDeployment | None:
        platform = self.find_platform(iss, client_id)
        if platform is None or not deployment_id:
            return None
        found = self._db.scalar(
            _DEPLOYMENT, {"platform_id": platform.id, "deployment_id": deployment_id}
        )
        if found is None:
            return None
        return LtiDeployment().set_deployment_id(found)


class _ManyClientsEverywhere(dict[str, str]):
    """pylti1p3 asks per issuer; for us every issuer may carry many client ids."""

    def get(self, key: str, default: Any = None) -> str:  # type: ignore[override]
        return "one-issuer-many-client-ids"
