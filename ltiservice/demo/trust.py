"""What the demo platform accepts from the tool: JWTs signed with the tool's key, and the
access tokens it issued in exchange.

The tool's public keys come from its KeyRing (current and previous, as its JWKS publishes
them): the demo lives in the same service, so no HTTP round trip is needed to read them.
Unlike lenient platforms, every claim the security framework lists is checked.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import jwt

from ltiservice.demo import cast
from ltiservice.errors import AuthorisationError, ServiceError
from ltiservice.lti.keys import KeyRing
from ltiservice.lti.store import SharedStore

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_LIFETIME_S = 3600
LEEWAY_S = 60
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


class OAuthError(ServiceError):
    """A refused token request; `code` is the OAuth 2.0 error code."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message, code=code, status=status)


def _tool_key(keyring: KeyRing, token: str) -> Any:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise ServiceError("Jeton illisible.", code="bad_jwt") from exc
    if header.get("alg") != "RS256":
        raise ServiceError("Seul RS256 est accepté.", code="bad_jwt")
    for jwk in keyring.jwks()["keys"]:
        if jwk["kid"] == header.get("kid"):
            return jwt.PyJWK(jwk).key
    raise ServiceError("Clé de l'outil inconnue (kid).", code="bad_jwt")


def _decode(keyring: KeyRing, token: str, audience: str, required: list[str]) -> dict[str, Any]:
    key = _tool_key(keyring, token)
    try:
        return jwt.decode(  # type: ignore[no-any-return]
            token,
            key,
            algorithms=["RS256"],
            audience=audience,
            issuer=cast.CLIENT_ID,
            leeway=LEEWAY_S,
            options={"require": required},
        )
    except jwt.InvalidTokenError as exc:
        raise ServiceError(f"Jeton refusé ({type(exc).__name__}).", code="bad_jwt") from exc


def issue_access_token(
    store: SharedStore, keyring: KeyRing, form: dict[str, str], token_url: str, allowed: set[str]
) -> dict[str, Any]:
    """The client-credentials grant: verify the tool's assertion, answer with a bearer token."""
    if form.get("grant_type") != "client_credentials":
        raise OAuthError("unsupported_grant_type", "grant_type doit valoir client_credentials.")
    if form.get("client_assertion_type") != JWT_BEARER or not form.get("client_assertion"):
        raise OAuthError("invalid_client", "Une assertion JWT est attendue.", 401)
    try:
        claims = _decode(
            keyring,
            form["client_assertion"],
            token_url,
            ["iss", "sub", "aud", "exp", "iat", "jti"],
        )
    except ServiceError as exc:
        raise OAuthError("invalid_client", exc.message, 401) from exc
    if claims["sub"] != cast.CLIENT_ID:
        raise OAuthError("invalid_client", "sub doit être le client_id de l'outil.", 401)
    if not store.add(f"demo:jti:{claims['jti']}", 1, 2 * TOKEN_LIFETIME_S):
        raise OAuthError("invalid_client", "Cette assertion a déjà servi (jti).", 401)
    requested = set((form.get("scope") or "").split())
    granted = requested & allowed
    if not granted:
        raise OAuthError("invalid_scope", "Aucune des portées demandées n'est proposée.")
    token = secrets.token_urlsafe(32)
    store.set(_token_key(token), {"scopes": sorted(granted)}, TOKEN_LIFETIME_S)
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME_S,
        "scope": " ".join(sorted(granted)),
    }


def require_scope(store: SharedStore, authorization: str | None, scope: str) -> None:
    """Refuse (401) a service call whose bearer token is unknown, expired or lacks `scope`."""
    token = (authorization or "").removeprefix("Bearer ").strip()
    grant = store.get(_token_key(token)) if token else None
    if not isinstance(grant, dict):
        raise AuthorisationError(
            "Jeton d'accès absent ou expiré.", code="invalid_token", status=401
        )
    if scope not in grant["scopes"]:
        raise AuthorisationError("Portée insuffisante.", code="insufficient_scope", status=403)


def _token_key(token: str) -> str:
    # Only a digest is stored: a store dump does not hand out usable tokens.
    return "demo:access:" + hashlib.sha256(token.encode()).hexdigest()


def check_deep_link_response(
    store: SharedStore, keyring: KeyRing, token: str, issuer: str
) -> list[dict[str, Any]]:
    """The content items of a valid LtiDeepLinkingResponse (iss, aud, times, nonce once,
    deployment and echoed data all checked)."""
    claims = _decode(keyring, token, issuer, ["iss", "aud", "exp", "iat", "nonce"])
    if claims.get(CLAIM + "message_type") != "LtiDeepLinkingResponse":
        raise ServiceError("Réponse de placement d'un type inattendu.", code="bad_deep_link")
    if claims.get(CLAIM + "version") != "1.3.0":
        raise ServiceError("Version LTI inattendue.", code="bad_deep_link")
    if claims.get(CLAIM + "deployment_id") != cast.DEPLOYMENT_ID:
        raise ServiceError("Déploiement inconnu.", code="bad_deep_link")
    if not store.add(f"demo:dl-nonce:{claims['nonce']}", 1, 3600):
        raise ServiceError("Cette réponse de placement a déjà été reçue.", code="bad_deep_link")
    data = claims.get(DL_CLAIM + "data")
    if not isinstance(data, str) or store.pop(f"demo:dl-data:{data}") is None:
        raise ServiceError(
            "La réponse ne correspond à aucune demande de placement en cours.", code="bad_deep_link"
        )
    items = claims.get(DL_CLAIM + "content_items") or []
    links = [i for i in items if isinstance(i, dict) and i.get("type") == "ltiResourceLink"]
    if not links:
        raise ServiceError("Aucune activité n'a été renvoyée.", code="bad_deep_link")
    return links


def new_deep_link_data(store: SharedStore) -> str:
    """The opaque `data` a deep-linking request carries and its response must echo."""
    data = secrets.token_urlsafe(16)
    store.set(f"demo:dl-data:{data}", 1, 3600)
    return data
