"""pylti1p3 tool configuration read from the Platform and Deployment tables."""

from __future__ import annotations

from typing import Any

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import select
from sqlalchemy.orm import Session

from ltiservice.lti.keys import KeyRing
from ltiservice.models import Deployment, Platform


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

    def find_platform(self, iss: str, client_id: str | None) -> Platform | None:
        if not iss or not client_id:
            return None
        return self._db.scalar(
            select(Platform).where(Platform.issuer == iss, Platform.client_id == client_id)
        )

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        raise NotImplementedError("registrations are looked up by issuer and client_id")

    def find_registration_by_params(
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
            select(Deployment).where(
                Deployment.platform_id == platform.id,
                Deployment.deployment_id == deployment_id,
            )
        )
        if found is None:
            return None
        return LtiDeployment().set_deployment_id(found.deployment_id)


class _ManyClientsEverywhere(dict[str, str]):
    """pylti1p3 asks per issuer; for us every issuer may carry many client ids."""

    def get(self, key: str, default: Any = None) -> str:  # type: ignore[override]
        return "one-issuer-many-client-ids"
