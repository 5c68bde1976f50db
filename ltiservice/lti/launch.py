"""LTI 1.3 launch validation: pylti1p3's chain with the checks it lacks.

Order matters: the signature is checked before the nonce is consumed, so a forged token
cannot burn a legitimate user's nonce. Each check maps to a line of the 1EdTech security
checklist (docs/security.md).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests
from pylti1p3.contrib.flask import FlaskMessageLaunch
from pylti1p3.exception import LtiException

from ltiservice.bodies import too_deep
from ltiservice.errors import LaunchError
from ltiservice.lti import jws
from ltiservice.lti.storage import SharedLaunchDataStorage
from ltiservice.lti.store import SharedStore
from ltiservice.lti.tool_conf import DatabaseToolConf, ToolRegistration

log = logging.getLogger(__name__)

_FRENCH = {
    "missing_state": "Le lancement ne contient pas de paramètre « state ».",
    "state_mismatch": (
        "Le lancement ne correspond à aucune connexion ouverte depuis ce navigateur. "
        "Votre navigateur bloque peut-être les cookies dans les cadres intégrés : "
        "relancez l'activité depuis votre plateforme, ou ouvrez-la dans une nouvelle fenêtre."
    ),
    "bad_format": "Le jeton d'identité reçu est illisible.",
    "unknown_registration": (
        "Cette plateforme (émetteur et identifiant client) n'est pas enregistrée auprès du "
        "service. Demandez à l'administrateur de votre plateforme d'enregistrer l'outil."
    ),
    "unknown_deployment": (
        "Ce déploiement de l'outil n'est pas connu du service. L'administrateur de votre "
        "plateforme doit terminer l'enregistrement de l'outil."
    ),
    "bad_audience": "Le jeton d'identité n'est pas destiné à cet outil.",
    "bad_signature": "La signature du jeton d'identité n'a pas pu être vérifiée.",
    "unknown_key": (
        "La clé qui a signé le jeton d'identité est inconnue de la plateforme déclarée."
    ),
    "expired": "Le jeton d'identité a expiré : relancez l'activité depuis votre plateforme.",
    "bad_times": "Le jeton d'identité n'a pas de dates de validité correctes.",
    "bad_nonce": "Ce lancement a déjà été utilisé ou n'a pas été demandé par ce service.",
    "bad_message": "Le message LTI reçu est incomplet ou d'un type non pris en charge.",
    "bad_target": "L'adresse de destination du lancement ne désigne pas ce service.",
    "jwks_unavailable": "Les clés publiques de la plateforme n'ont pas pu être récupérées.",
    "storage_refused": (
        "Ce lancement n'a pas pu être vérifié auprès de votre plateforme : relancez "
        "l'activité depuis votre plateforme de formation."
    ),
}


def launch_error(code: str, status: int = 403) -> LaunchError:
    return LaunchError(_FRENCH[code], code=code, status=status)


class ToolMessageLaunch(FlaskMessageLaunch):  # type: ignore[misc]
    """A launch validated the way the 1EdTech security framework asks."""

    def __init__(
        self,
        request: Any,
        tool_config: DatabaseToolConf,
        *,
        cookie_service: Any,
        storage: SharedLaunchDataStorage,
        store: SharedStore,
        base_url: str,
        leeway_s: int,
        jwks_ttl_s: int,
        jwks_refetch_s: int,
        jwks_refetch_max: int,
        http: requests.Session,
    ) -> None:
        super().__init__(
            request,
            tool_config,
            cookie_service=cookie_service,
            launch_data_storage=storage,
            requests_session=http,
        )
        self._storage = storage
        self._store = store
        self._base_url = base_url
        self._leeway_s = leeway_s
        self._jwks_ttl_s = jwks_ttl_s
        self._jwks_refetch_s = jwks_refetch_s
        self._jwks_refetch_max = jwks_refetch_max
        self._storage_nonce: str | None = None

    def trust_platform_storage(self, nonce: str) -> None:
        """The state was proven through platform storage; the id_token must carry `nonce`."""
        self._storage_nonce = nonce

    # -- the chain ---------------------------------------------------------------------
    def validate(self) -> ToolMessageLaunch:
        self._validated = True
        try:
            (
                self.validate_state()
                .validate_jwt_format()
                .validate_registration()
                .validate_jwt_signature()
                .validate_nonce()
                .validate_deployment()
                .validate_message()
                .validate_target_link_uri()
                .save_launch_data()
            )
            return self
        except LtiException as exc:
            self._validated = False
            raise launch_error("bad_message", 400) from exc
        except Exception:
            self._validated = False
            raise

    def validate_state(self) -> ToolMessageLaunch:
        state = self._get_request_param("state")
        if not state:
            raise launch_error("missing_state", 400)
        if self._cookie_service.get_cookie(state) != state and self._storage_nonce is None:
            raise launch_error("state_mismatch", 401)
        return self

    def validate_jwt_format(self) -> ToolMessageLaunch:
        try:
            super().validate_jwt_format()
        except LtiException as exc:
            raise launch_error("bad_format", 400) from exc
        body = self._jwt.get("body")
        # Nothing downstream (PyJWT, claim checks, our views) may recurse on a crafted body.
        if not isinstance(body, dict) or too_deep(self._jwt.get("header")) or too_deep(body):
            raise launch_error("bad_format", 400)
        return self

    def get_client_id(self) -> str:
        """Our client_id: `aud` if single; with several audiences, `azp` names us."""
        body = self._get_jwt_body()
        aud = body.get("aud")
        if isinstance(aud, str):
            return aud
        if isinstance(aud, list) and len(aud) == 1 and isinstance(aud[0], str):
            return aud[0]
        azp = body.get("azp")
        if isinstance(aud, list) and isinstance(azp, str) and azp in aud:
            return azp
        raise launch_error("bad_audience")

    def validate_registration(self) -> ToolMessageLaunch:
        iss = self._get_jwt_body().get("iss")
        if not isinstance(iss, str) or not iss:
            raise launch_error("unknown_registration")
        client_id = self.get_client_id()
        self._registration = self._tool_config.find_registration_by_params(iss, client_id)
        if self._registration is None:
            # With several audiences, `azp` names the tool the token is for: not us.
            aud = self._get_jwt_body().get("aud")
            several = isinstance(aud, list) and len(aud) > 1
            raise launch_error("bad_audience" if several else "unknown_registration")
        return self

    @property
    def registration(self) -> ToolRegistration:
        """The platform registration found by `validate_registration`."""
        if not isinstance(self._registration, ToolRegistration):
            raise launch_error("unknown_registration")
        return self._registration

    def validate_jwt_signature(self) -> ToolMessageLaunch:
        id_token = self._get_id_token()
        header = self._jwt.get("header", {})
        if header.get("alg") != "RS256":
            raise launch_error("bad_signature")
        key = self._public_key_for(str(header.get("kid") or ""))
        client_id = self.registration.get_client_id()
        try:
            claims = jws.decode_rs256(
                id_token,
                key,
                audience=client_id,
                issuer=self.registration.get_issuer(),
                leeway=self._leeway_s,
                require=("exp", "iat", "iss", "aud", "nonce"),
            )
        except jwt.ExpiredSignatureError as exc:
            raise launch_error("expired", 401) from exc
        except (jwt.MissingRequiredClaimError, jwt.ImmatureSignatureError) as exc:
            raise launch_error("bad_times") from exc
        except jwt.InvalidAudienceError as exc:
            raise launch_error("bad_audience") from exc
        except jwt.InvalidTokenError as exc:
            raise launch_error("bad_signature") from exc
        aud = claims["aud"]
        azp = claims.get("azp")
        several = isinstance(aud, list) and len(aud) > 1
        if (several and azp != client_id) or (azp is not None and azp != client_id):
            raise launch_error("bad_audience")
        return self

    def validate_nonce(self) -> ToolMessageLaunch:
        nonce = self._get_jwt_body().get("nonce")
        # pylti1p3 only checks the nonce exists; taking it out makes it good for one launch.
        if self._storage_nonce is not None and nonce != self._storage_nonce:
            # The state read back from the platform was issued with another nonce.
            raise launch_error("bad_nonce")
        if not isinstance(nonce, str) or not self._storage.pop_value(f"lti1p3-nonce-{nonce}"):
            raise launch_error("bad_nonce")
        return self

    def validate_deployment(self) -> ToolMessageLaunch:
        body = self._get_jwt_body()
        deployment_id = body.get("https://purl.imsglobal.org/spec/lti/claim/deployment_id")
        found = self._tool_config.find_deployment_by_params(
            self.registration.get_issuer(), deployment_id, self.registration.get_client_id()
        )
        if found is None:
            raise launch_error("unknown_deployment")
        return self

    def validate_message(self) -> ToolMessageLaunch:
        body = self._get_jwt_body()
        if body.get("https://purl.imsglobal.org/spec/lti/claim/version") != "1.3.0":
            raise launch_error("bad_message", 400)
        try:
            super().validate_message()
        except LtiException as exc:
            # pylti1p3's reasons name a missing claim, never a value: safe and useful to log.
            log.info("launch message refused: %s", exc)
            raise launch_error("bad_message", 400) from exc
        return self

    def validate_target_link_uri(self) -> ToolMessageLaunch:
        target = self._get_jwt_body().get(
            "https://purl.imsglobal.org/spec/lti/claim/target_link_uri"
        )
        if not isinstance(target, str) or not points_at_tool(target, self._base_url):
            raise launch_error("bad_target")
        return self

    # -- platform keys -------------------------------------------------------------------
    def _public_key_for(self, kid: str) -> Any:
        url = self.registration.get_key_set_url() or ""
        cache_key = "jwks-" + hashlib.sha256(url.encode()).hexdigest()
        cached = self._store.get(cache_key)
        if not isinstance(cached, dict):
            # Nothing cached: this fetch is the freshest keyset there is; never fetch twice.
            key = _find_key(self._fetch_jwks(url, cache_key), kid)
        else:
            key = _find_key(cached, kid)
            if key is None and self._may_refetch(cache_key, kid):
                key = _find_key(self._fetch_jwks(url, cache_key), kid)
        if key is None:
            raise launch_error("unknown_key")
        return key

    def _may_refetch(self, cache_key: str, kid: str) -> bool:
        """One re-fetch per unknown kid per interval, at most `jwks_refetch_max` per platform.

        A single allowance per platform let any token with a made-up kid spend it, so a
        genuine rotation was refused until the allowance came back. Per kid, the genuine new
        kid has its own; the cap keeps a flood of made-up kids from hammering the platform.
        Whoever spends a slot fetches the platform's current keyset, so once the slots taken
        before a rotation expire (one interval) the next unknown kid brings the new key in.
        """
        kid_key = f"{cache_key}-kid-{hashlib.sha256(kid.encode()).hexdigest()[:32]}"
        if not self._store.add(kid_key, 1, self._jwks_refetch_s):
            return False
        for slot in range(self._jwks_refetch_max):
            if self._store.add(f"{cache_key}-slot-{slot}", 1, self._jwks_refetch_s):
                return True
        # No fetch was made for this kid: it keeps its allowance for when a slot frees up.
        self._store.delete(kid_key)
        log.info("platform JWKS re-fetch cap reached; unknown kid refused")
        return False

    def _fetch_jwks(self, url: str, cache_key: str) -> dict[str, Any]:
        try:
            response = self._requests_session.get(url, timeout=10)
            response.raise_for_status()
            keyset = response.json()
        except (requests.RequestException, ValueError, RecursionError) as exc:
            log.warning("platform JWKS unavailable at %s: %s", url, type(exc).__name__)
            raise launch_error("jwks_unavailable", 502) from exc
        if not isinstance(keyset, dict) or not isinstance(keyset.get("keys"), list):
            raise launch_error("jwks_unavailable", 502)
        self._store.set(cache_key, keyset, self._cache_lifetime(response))
        return keyset

    def _cache_lifetime(self, response: requests.Response) -> int:
        """`jwks_cache_lifetime_s`, shortened when the platform's `max-age` says so.

        Never below the re-fetch interval: a platform answering `max-age=0` must not make
        every launch (or every forged token) fetch its keyset.
        """
        max_age = _max_age(response.headers.get("Cache-Control", ""))
        if max_age is None:
            return self._jwks_ttl_s
        return max(self._jwks_refetch_s, min(self._jwks_ttl_s, max_age))


def _max_age(cache_control: str) -> int | None:
    """The `max-age` (or `no-cache` / `no-store` as 0) of a Cache-Control header."""
    for part in cache_control.lower().split(","):
        name, _, value = part.strip().partition("=")
        if name in {"no-cache", "no-store"}:
            return 0
        if name == "max-age" and value.strip().strip('"').isdigit():
            return int(value.strip().strip('"'))
    return None


def _find_key(keyset: dict[str, Any], kid: str) -> Any:
    for jwk in keyset.get("keys", []):
        if isinstance(jwk, dict) and jwk.get("kid") == kid and jwk.get("kty") == "RSA":
            return _public_key(json.dumps(jwk, sort_keys=True))
    return None


@functools.lru_cache(maxsize=128)
def _public_key(jwk_json: str) -> Any:
    """The RSA key of a JWK, parsed once per process: launches reuse the same few keys, and
    keying on the JWK's full text means a rotated key is parsed anew."""
    try:
        return jwt.PyJWK(json.loads(jwk_json), algorithm="RS256").key
    except jwt.PyJWKError:
        return None


def unverified_claims(id_token: str) -> dict[str, Any] | None:
    """An id_token's claims, checking nothing: only to choose which page a refusal shows on."""
    body = jws.unverified_claims(id_token)
    return body if body is not None and not too_deep(body) else None


def points_at_tool(url: str, base_url: str) -> bool:
    """True when `url` is on this tool's origin and under its base path."""
    target, base = urlsplit(url), urlsplit(base_url)
    if (target.scheme, target.netloc.lower()) != (base.scheme, base.netloc.lower()):
        return False
    return target.path.startswith(base.path.rstrip("/") + "/") or target.path == base.path
