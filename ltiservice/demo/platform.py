"""The demo platform's LTI 1.3 side: its key, the OIDC auth endpoint's checks, the id_token.

It plays the part an LMS plays and nothing more: the service validates what it signs exactly
as it validates Moodle's launches. Its RSA key lives in `<instance>/demo/` (mode 0600, never
in git); launch intents ("enter as Camille in this activity") are kept server-side in the
SharedStore under an opaque `lti_message_hint`, used once.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ltiservice.demo import cast
from ltiservice.errors import ServiceError
from ltiservice.lti.keys import ToolKey
from ltiservice.lti.store import SharedStore

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS_SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
)
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ID_TOKEN_LIFETIME_S = 300
HINT_LIFETIME_S = 600
RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"


class DemoAuthError(ServiceError):
    """The tool's authentication request breaks a rule of the OIDC / LTI security framework."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, code=code, status=400)


@dataclass(frozen=True)
class DemoUrls:
    """Every URL of the demo platform, derived from the service's base URL."""

    base_url: str

    @property
    def tool(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def issuer(self) -> str:
        return self.tool + "/demo"

    @property
    def home(self) -> str:
        return self.issuer + "/"

    @property
    def auth(self) -> str:
        return self.issuer + "/auth"

    @property
    def jwks(self) -> str:
        return self.issuer + "/jwks"

    @property
    def token(self) -> str:
        return self.issuer + "/api/token"

    @property
    def lineitems(self) -> str:
        return self.issuer + "/api/lineitems"

    def lineitem(self, item_id: str) -> str:
        return f"{self.lineitems}/{item_id}"

    @property
    def memberships(self) -> str:
        return self.issuer + "/api/memberships"

    @property
    def deep_link_return(self) -> str:
        return self.issuer + "/deep-link-return"

    @property
    def tool_login(self) -> str:
        return self.tool + "/lti/login"

    @property
    def tool_launch(self) -> str:
        return self.tool + "/lti/launch"


# -- the platform's key ------------------------------------------------------------------


def platform_key(instance_path: str) -> ToolKey:
    """The demo platform's signing key, created on first use in `<instance>/demo/`."""
    folder = Path(instance_path) / "demo"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / "platform.pem"
    if not path.exists():
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker wrote it first: use theirs
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
    pem = path.read_bytes()
    # The kid names the key: a regenerated key gets a new kid and the tool re-fetches the JWKS.
    public = serialization.load_pem_private_key(pem, password=None).public_key()
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    kid = "demo-" + hashlib.sha256(der).hexdigest()[:16]
    return ToolKey(kid=kid, state="current", created_at="", private_pem=pem)


# -- launch intents ----------------------------------------------------------------------


def login_initiation(
    store: SharedStore,
    urls: DemoUrls,
    person: cast.CastMember,
    *,
    message_type: str,
    resource_link: dict[str, Any] | None = None,
) -> str:
    """URL of the tool's OIDC login for this person: the third-party initiated login."""
    hint = secrets.token_urlsafe(24)
    intent = {"sub": person.sub, "message_type": message_type, "resource_link": resource_link}
    store.set(f"demo:hint:{hint}", intent, HINT_LIFETIME_S)
    params = {
        "iss": urls.issuer,
        "login_hint": person.sub,
        "target_link_uri": urls.tool_launch,
        "lti_message_hint": hint,
        "client_id": cast.CLIENT_ID,
        "lti_deployment_id": cast.DEPLOYMENT_ID,
    }
    return urls.tool_login + "?" + urlencode(params)


def check_auth_request(
    store: SharedStore, urls: DemoUrls, params: dict[str, str]
) -> dict[str, Any]:
    """The launch intent of a valid auth request; DemoAuthError naming the broken rule."""
    expected = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": cast.CLIENT_ID,
        "redirect_uri": urls.tool_launch,
    }
    for name, value in expected.items():
        if params.get(name) != value:
            raise DemoAuthError(
                f"Demande d'authentification refusée : « {name} » doit valoir « {value} ».",
                code=f"bad_{name}",
            )
    for name in ("nonce", "state", "login_hint", "lti_message_hint"):
        if not params.get(name):
            raise DemoAuthError(
                f"Demande d'authentification refusée : « {name} » manquant.", code=f"no_{name}"
            )
    intent = store.pop(f"demo:hint:{params['lti_message_hint']}")
    if not isinstance(intent, dict):
        raise DemoAuthError(
            "Ce lien de démonstration a déjà servi ou a expiré : revenez à l'accueil de la "
            "démonstration.",
            code="bad_message_hint",
        )
    if intent["sub"] != params["login_hint"]:
        raise DemoAuthError(
            "Demande d'authentification refusée : « login_hint » ne désigne pas la personne "
            "qui a ouvert l'activité.",
            code="bad_login_hint",
        )
    return intent


# -- the id_token ------------------------------------------------------------------------


def build_id_token(
    key: ToolKey,
    urls: DemoUrls,
    intent: dict[str, Any],
    nonce: str,
    *,
    lineitem_url: str | None = None,
    deep_link_data: str | None = None,
) -> str:
    """The signed id_token for one launch intent (resource link or deep linking)."""
    person = cast.member_by_sub(intent["sub"])
    if person is None:
        raise DemoAuthError("Personne inconnue de la démonstration.", code="bad_login_hint")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": urls.issuer,
        "aud": cast.CLIENT_ID,
        "azp": cast.CLIENT_ID,
        "sub": person.sub,
        "iat": now,
        "exp": now + ID_TOKEN_LIFETIME_S,
        "nonce": nonce,
        "name": person.name,
        "given_name": person.given_name,
        "family_name": person.family_name,
        "email": person.email,
        CLAIM + "message_type": intent["message_type"],
        CLAIM + "version": "1.3.0",
        CLAIM + "deployment_id": cast.DEPLOYMENT_ID,
        CLAIM + "target_link_uri": urls.tool_launch,
        CLAIM + "roles": [person.role],
        CLAIM + "context": {
            "id": cast.COURSE_ID,
            "label": cast.COURSE_LABEL,
            "title": cast.COURSE_TITLE,
            "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
        },
        CLAIM + "tool_platform": {
            "guid": urls.issuer,
            "name": cast.PLATFORM_NAME,
            "product_family_code": "ltiservice-demo",
        },
        CLAIM + "launch_presentation": {"document_target": "window", "return_url": urls.home},
        CLAIM + "lis": {"person_sourcedid": person.sub},
        NRPS_CLAIM: {"context_memberships_url": urls.memberships, "service_versions": ["2.0"]},
    }
    endpoint: dict[str, Any] = {"scope": list(AGS_SCOPES), "lineitems": urls.lineitems}
    if intent["message_type"] == DEEP_LINKING:
        claims[DL_CLAIM + "deep_linking_settings"] = {
            "deep_link_return_url": urls.deep_link_return,
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_multiple": False,
            "auto_create": True,
            "title": "Ajouter une évaluation au cours de démonstration",
            "data": deep_link_data,
        }
    else:
        link = intent["resource_link"] or {}
        claims[CLAIM + "resource_link"] = {"id": link["id"], "title": link.get("title", "")}
        if link.get("custom"):
            claims[CLAIM + "custom"] = dict(link["custom"])
        if lineitem_url:
            endpoint["lineitem"] = lineitem_url
    claims[AGS_CLAIM] = endpoint
    return jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": key.kid})
