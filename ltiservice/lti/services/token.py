"""OAuth 2.0 client-credentials access tokens, per the 1EdTech Security Framework.

The tool proves who it is with a JWT assertion signed by its current key (iss = sub =
client_id, aud = the platform's token audience, short exp, unique jti, kid in the header).
Tokens are cached per (platform, sorted scopes) in the SharedStore so every worker reuses
them until shortly before they expire: Canvas rate-limits its token endpoint. Two workers
missing the cache at once both fetch a token; that is harmless and cheaper than a lock.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import jwt
import requests

from ltiservice.lti.keys import KeyRing, ToolKeyError
from ltiservice.lti.services.errors import TokenError, parse_retry_after
from ltiservice.lti.store import SharedStore
from ltiservice.models import Platform

log = logging.getLogger(__name__)

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_S = 300
DEFAULT_EXPIRES_IN_S = 3600
MAX_MARGIN_S = 60.0


@dataclass(frozen=True)
class PlatformAuth:
    """What a service call needs from a Platform row, detached from any DB session."""

    issuer: str
    client_id: str
    token_url: str
    audience: str | None = None

    @classmethod
    def of(cls, platform: Platform | PlatformAuth) -> PlatformAuth:
        if isinstance(platform, PlatformAuth):
            return platform
        return cls(
            issuer=platform.issuer,
            client_id=platform.client_id,
            token_url=platform.auth_token_url,
            audience=platform.auth_audience or None,
        )


class TokenProvider:
    """Access tokens for service calls, shared by every process through the SharedStore.

    `clock` is injectable so tests can move time forward against a real platform; the store's
    own expiry is only a safety net, the decision uses the stored `expires_at`.
    """

    def __init__(
        self,
        store: SharedStore,
        keyring: KeyRing,
        http: requests.Session,
        timeout: float,
        *,
        clock: Callable[[], float] = time.time,
        margin_s: float = MAX_MARGIN_S,
    ) -> None:
        self._store = store
        self._keyring = keyring
        self._http = http
        self._timeout = timeout
        self._clock = clock
        self._margin_s = margin_s
        # A per-process copy spares a store round trip per call; a token another process
        # invalidated fails here with 401 and is invalidated here too.
        self._memo: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def token(self, platform: Platform | PlatformAuth, scopes: Iterable[str]) -> str:
        """A valid access token for these scopes, from the cache or the token endpoint."""
        auth = PlatformAuth.of(platform)
        wanted = sorted(set(scopes))
        key = _cache_key(auth, wanted)
        now = self._clock()
        with self._lock:
            memo = self._memo.get(key)
        if memo and memo[1] > now:
            return memo[0]
        cached = self._store.get(key)
        if isinstance(cached, dict) and cached.get("usable_until", 0) > now:
            self._remember(key, cached["token"], cached["usable_until"])
            return str(cached["token"])
        return self._fetch(auth, wanted, key)

    def invalidate(
        self, platform: Platform | PlatformAuth, scopes: Iterable[str], token: str
    ) -> None:
        """Forget `token` after the platform refused it (only if it is still the cached one)."""
        key = _cache_key(PlatformAuth.of(platform), sorted(set(scopes)))
        with self._lock:
            if self._memo.get(key, ("",))[0] == token:
                del self._memo[key]
        cached = self._store.get(key)
        if isinstance(cached, dict) and cached.get("token") == token:
            self._store.delete(key)

    def _remember(self, key: str, token: str, usable_until: float) -> None:
        with self._lock:
            self._memo[key] = (token, usable_until)

    def _fetch(self, auth: PlatformAuth, scopes: list[str], key: str) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": self.assertion(auth),
            "scope": " ".join(scopes),
        }
        try:
            response = self._http.post(
                auth.token_url,
                data=form,
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise TokenError(
                "Le point d'accès aux jetons de la plateforme est injoignable.",
                details={"reason": type(exc).__name__},
            ) from exc
        body = _json_or_none(response)
        if response.status_code != 200:
            raise _refusal(response.status_code, body, response.headers.get("Retry-After"))
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise TokenError(
                "La plateforme a répondu sans jeton d'accès exploitable.", http_status=200
            )
        expires_in = _expires_in(body.get("expires_in"))
        margin = min(self._margin_s, expires_in / 10)
        usable_until = self._clock() + expires_in - margin
        token = body["access_token"]
        self._store.set(
            key, {"token": token, "usable_until": usable_until}, max(1, int(expires_in - margin))
        )
        self._remember(key, token, usable_until)
        log.info("access token obtained for %s (%d scope(s))", auth.client_id, len(scopes))
        return token

    def assertion(self, auth: PlatformAuth) -> str:
        """The signed client assertion (JWT bearer) for one token request."""
        try:
            key = self._keyring.current()
        except ToolKeyError as exc:
            raise TokenError(
                "La clé de signature de l'outil est introuvable.", retryable=False
            ) from exc
        # Wall time, not the injectable clock: the platform checks iat/exp against its own.
        now = int(time.time())
        claims = {
            "iss": auth.client_id,
            "sub": auth.client_id,
            "aud": auth.audience or auth.token_url,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_S,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": key.kid})


def _cache_key(auth: PlatformAuth, scopes: list[str]) -> str:
    raw = "\n".join([auth.issuer, auth.client_id, auth.token_url, " ".join(scopes)])
    return "svc-token:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _expires_in(raw: Any) -> float:
    if raw is None:
        return float(DEFAULT_EXPIRES_IN_S)
    try:
        value = float(raw)
    except (TypeError, ValueError) as exc:
        raise TokenError("La durée de validité du jeton d'accès est illisible.") from exc
    if value <= 0:
        raise TokenError("La plateforme a délivré un jeton d'accès déjà expiré.")
    return value


def _refusal(status: int, body: Any, retry_after: str | None) -> TokenError:
    oauth_error = body.get("error") if isinstance(body, dict) else None
    message = {
        400: "La plateforme a refusé la demande de jeton d'accès (demande ou droits invalides).",
        401: "La plateforme ne reconnaît pas l'outil : vérifiez l'enregistrement et ses clés.",
    }.get(status, f"La plateforme n'a pas délivré de jeton d'accès (HTTP {status}).")
    return TokenError(
        message,
        http_status=status,
        retry_after_s=parse_retry_after(retry_after),
        platform_message=str(oauth_error)[:200] if oauth_error else None,
        details={"oauth_error": str(oauth_error)[:64]} if oauth_error else None,
    )
