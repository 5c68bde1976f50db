"""The LTI 1.3 platform: Open edX's ``LtiAdvantageConsumer`` behind HTTP routes.

Everything a tool sees of the platform's security goes through the library: the OIDC login
initiation URL (``prepare_preflight_url``), the launch id_token (``set_*``, ``enable_*``,
``generate_launch_request``), the token endpoint (``access_token`` / ``check_token``), the deep
linking response (``check_and_decode_deep_linking_token``), the JWKS (``get_public_keyset`` via
``PlatformKeyHandler``), and score / member / content-item validation (its DRF serializers).

Glue (each place says why): the library is lenient where the spec is strict, and Open edX's
AGS / NRPS / registration HTTP views need a full Open edX, so those are rebuilt here.

HTTP surface (issuer = base URL ``http://127.0.0.1:PORT``):

- Admin (for tests, never faulted): ``GET /admin/info``, ``POST /admin/tool``,
  ``POST /admin/launch``, ``POST /admin/sign``, ``POST /admin/id_token``,
  ``POST /admin/rotate_keys``, ``POST /admin/retire_previous_key``, ``GET /admin/stats``,
  ``GET /admin/scores``, ``GET /admin/line_items[?context_id=]``, ``POST /admin/members``,
  ``GET /admin/deep_links``, ``POST /admin/registration_token``, ``GET /admin/registrations``,
  ``POST|DELETE /admin/faults``, ``POST /admin/reset``.
- Platform: ``GET /jwks``, ``GET /launch/<hint>`` (auto-POST login initiation),
  ``GET|POST /authorize``, ``POST /token``, ``/ags/<ctx>/lineitems[/<id>[/scores|/results]]``,
  ``GET /nrps/<ctx>/memberships``, ``POST /deep_link_return``,
  ``GET /.well-known/openid-configuration``, ``POST /register``.

Errors are JSON ``{"error", "error_description"}``; a 500 with ``"error": "peer_bug"`` is a
bug of this peer, not of the tool.
"""

from __future__ import annotations

import copy
import functools
import html
import logging
import math
import secrets
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
from http_glue import HttpError, Request, Response, Router, html_response, json_response
from keys import KeyRing
from lti_consumer.data import Lti1p3LaunchData
from lti_consumer.lti_1p3 import exceptions as lti_exc
from lti_consumer.lti_1p3.constants import LTI_1P3_CONTEXT_TYPE, LTI_DEEP_LINKING_ACCEPTED_TYPES
from lti_consumer.lti_1p3.consumer import LtiAdvantageConsumer
from lti_consumer.lti_1p3.extensions.rest_framework.constants import (
    LTI_DL_CONTENT_TYPE_SERIALIZER_MAP,
)
from lti_consumer.lti_1p3.extensions.rest_framework.serializers import (
    LtiAgsScoreSerializer,
    LtiNrpsContextMemberPIISerializer,
)
from lti_consumer.models import LtiAgsScore
from lti_consumer.utils import get_data_from_cache

log = logging.getLogger("openedx_peer")

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_RO = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_RO = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MESSAGE_TYPES = ("LtiResourceLinkRequest", "LtiDeepLinkingRequest", "LtiSubmissionReviewRequest")
CT_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
CT_LINEITEMS = "application/vnd.ims.lis.v2.lineitemcontainer+json"
CT_SCORE = "application/vnd.ims.lis.v1.score+json"
CT_RESULTS = "application/vnd.ims.lis.v2.resultcontainer+json"
CT_MEMBERS = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
CLOCK_SKEW = 60  # seconds of tolerance on iat in tokens the tool signs
DL_MAX_AGE = 3600  # a deep-linking response older than this is stale


@dataclass
class ToolConfig:
    """The one tool this platform knows."""

    client_id: str
    deployment_id: str
    login_url: str
    launch_url: str
    redirect_uris: list[str]
    jwks_url: str
    deep_link_launch_url: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ToolConfig:
        """Validate ``POST /admin/tool``."""
        missing = [
            k
            for k in ("client_id", "deployment_id", "login_url", "launch_url")
            if not isinstance(data.get(k), str) or not data.get(k)
        ]
        if missing:
            raise HttpError(400, f"missing or empty: {', '.join(missing)}")
        redirect_uris = data.get("redirect_uris") or [data["launch_url"]]
        if not isinstance(redirect_uris, list) or not all(
            isinstance(u, str) for u in redirect_uris
        ):
            raise HttpError(400, "redirect_uris must be a list of URLs")
        return cls(
            client_id=data["client_id"],
            deployment_id=str(data["deployment_id"]),
            login_url=data["login_url"],
            launch_url=data["launch_url"],
            redirect_uris=list(redirect_uris),
            jwks_url=data.get("jwks_url") or "",
            deep_link_launch_url=data.get("deep_link_launch_url") or data["launch_url"],
        )


@dataclass
class Launch:
    """A launch started by a test, waiting for the tool's OIDC auth request."""

    hint: str
    spec: dict[str, Any]
    dl_data: str | None
    created: float = field(default_factory=time.time)


@dataclass
class Fault:
    """An injected failure for the next ``count`` requests under ``path_prefix``."""

    path_prefix: str
    kind: str  # "status", "timeout" or "close"
    status: int = 500
    seconds: float = 10.0
    count: int = 1


class PeerState:
    """Everything the platform remembers; guarded by ``lock``."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.keys = KeyRing()
        self.tool: ToolConfig | None = None
        self.used_jtis: set[str] = set()
        self.registration_tokens: dict[str, float] = {}
        self.registrations: list[dict[str, Any]] = []
        self.reset()

    def reset(self) -> None:
        """Forget launches, grades, rosters, deep links, faults and counters."""
        self.launches: dict[str, Launch] = {}
        self.line_items: dict[str, dict[str, dict[str, Any]]] = {}
        self.next_line_item = 1
        self.scores: list[dict[str, Any]] = []
        self.latest_scores: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.members: dict[str, list[dict[str, Any]]] = {}
        self.contexts: dict[str, dict[str, Any]] = {}
        self.deep_links: list[dict[str, Any]] = []
        self.dl_nonces: set[str] = set()
        self.faults: list[Fault] = []
        self.tokens_issued = 0
        self.requests_by_path: Counter[str] = Counter()


class Platform:
    """Route handlers; ``base_url`` doubles as the platform issuer."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.state = PeerState()
        self.router = Router()
        self._add_routes()

    # ------------------------------------------------------------------ routing

    def _add_routes(self) -> None:
        r = self.router.add
        r("GET", "/admin/info", self.admin_info)
        r("POST", "/admin/tool", self.admin_tool)
        r("POST", "/admin/launch", self.admin_launch)
        r("POST", "/admin/sign", self.admin_sign)
        r("POST", "/admin/id_token", self.admin_id_token)
        r("POST", "/admin/rotate_keys", self.admin_rotate_keys)
        r("POST", "/admin/retire_previous_key", self.admin_retire_previous_key)
        r("GET", "/admin/stats", self.admin_stats)
        r("GET", "/admin/scores", self.admin_scores)
        r("GET", "/admin/line_items", self.admin_line_items)
        r("POST", "/admin/members", self.admin_members)
        r("GET", "/admin/deep_links", self.admin_deep_links)
        r("POST", "/admin/registration_token", self.admin_registration_token)
        r("GET", "/admin/registrations", self.admin_registrations)
        r("POST DELETE", "/admin/faults", self.admin_faults)
        r("POST", "/admin/reset", self.admin_reset)
        r("GET", "/jwks", self.jwks)
        r("GET", "/launch/(?P<hint>[^/]+)", self.launch_page)
        r("GET POST", "/authorize", self.authorize)
        r("POST", "/token", self.token)
        r("GET POST", "/ags/(?P<ctx>[^/]+)/lineitems", self.ags_line_items)
        r("GET PUT DELETE", "/ags/(?P<ctx>[^/]+)/lineitems/(?P<item>[^/]+)", self.ags_line_item)
        r("POST", "/ags/(?P<ctx>[^/]+)/lineitems/(?P<item>[^/]+)/scores", self.ags_scores)
        r("GET", "/ags/(?P<ctx>[^/]+)/lineitems/(?P<item>[^/]+)/results", self.ags_results)
        r("GET", "/nrps/(?P<ctx>[^/]+)/memberships", self.nrps_memberships)
        r("POST", "/deep_link_return", self.deep_link_return)
        r("GET", "/.well-known/openid-configuration", self.openid_configuration)
        r("POST", "/register", self.register)

    def take_fault(self, path: str) -> Fault | None:
        """The fault to apply to this request, if any (admin routes are never faulted)."""
        if path.startswith("/admin/"):
            return None
        with self.state.lock:
            for fault in self.state.faults:
                if fault.count > 0 and path.startswith(fault.path_prefix):
                    fault.count -= 1
                    return copy.copy(fault)
        return None

    def count_request(self, path: str) -> None:
        """Per-path request counter for ``/admin/stats`` (admin calls not counted)."""
        if not path.startswith("/admin/"):
            with self.state.lock:
                self.state.requests_by_path[path] += 1

    # ------------------------------------------------------------------ helpers

    @property
    def token_url(self) -> str:
        """OAuth2 token endpoint (also the required ``aud`` of client assertions)."""
        return f"{self.base_url}/token"

    def info(self) -> dict[str, Any]:
        """Platform endpoints, as a tool registration needs them."""
        tool = self.state.tool
        return {
            "issuer": self.base_url,
            "jwks_url": f"{self.base_url}/jwks",
            "key_set_url": f"{self.base_url}/jwks",
            "auth_login_url": f"{self.base_url}/authorize",
            "auth_token_url": self.token_url,
            "deep_link_return_url": f"{self.base_url}/deep_link_return",
            "openid_configuration_url": f"{self.base_url}/.well-known/openid-configuration",
            "tool": None if tool is None else tool.__dict__,
            "current_kid": self.state.keys.current.kid,
        }

    def require_tool(self) -> ToolConfig:
        """The configured tool, or 400."""
        tool = self.state.tool
        if tool is None:
            raise HttpError(400, "no tool configured: POST /admin/tool first")
        return tool

    def consumer(
        self, tool: ToolConfig, *, launch_url: str | None = None, key_which: str = "current"
    ) -> LtiAdvantageConsumer:
        """A fresh library consumer for ``tool``, signing with the chosen platform key."""
        key = self.state.keys.pick(key_which)
        consumer = LtiAdvantageConsumer(
            iss=self.base_url,
            lti_oidc_url=tool.login_url,
            lti_launch_url=launch_url or tool.launch_url,
            client_id=tool.client_id,
            deployment_id=tool.deployment_id,
            # The key is attached below as the library's own PlatformKeyHandler, built once
            # per key: passing the PEM here would re-parse it (~50 ms) on every request.
            rsa_key=None,
            rsa_key_id=None,
            redirect_uris=tool.redirect_uris,
            tool_keyset_url=tool.jwks_url or None,
        )
        consumer.key_handler = key.handler
        if tool.deep_link_launch_url:
            consumer.enable_deep_linking(
                tool.deep_link_launch_url, f"{self.base_url}/deep_link_return"
            )
        return consumer

    # ------------------------------------------------------------------ admin

    def admin_info(self, req: Request) -> Response:
        """``GET /admin/info``."""
        return json_response(self.info())

    def admin_tool(self, req: Request) -> Response:
        """``POST /admin/tool``: (re)configure the tool."""
        tool = ToolConfig.from_json(req.json_object())
        with self.state.lock:
            self.state.tool = tool
        return json_response(self.info())

    def admin_launch(self, req: Request) -> Response:
        """``POST /admin/launch``: store a launch and return the OIDC login initiation."""
        spec = _validate_launch_spec(req.json_object())
        tool = self.require_tool()
        consumer = self.consumer(tool, launch_url=spec.get("target_link_uri"))
        user = spec["user"]
        context = spec.get("context") or {}
        resource_link = spec.get("resource_link") or {}
        launch_data = Lti1p3LaunchData(
            # user_id only keys the library's cache entry (so each launch gets its own
            # lti_message_hint); external_user_id is what the tool sees as login_hint.
            user_id=f"{user['sub']}#{uuid.uuid4().hex}",
            external_user_id=user["sub"],
            user_role=None,
            config_id="ltiservice-peer",
            resource_link_id=resource_link.get("id") or f"dl-{uuid.uuid4().hex[:8]}",
            message_type=spec["message_type"],
            name=user.get("name"),
            email=user.get("email"),
            context_id=context.get("id"),
            context_title=context.get("title"),
            context_label=context.get("label"),
            custom_parameters=spec.get("custom") or {},
        )
        preflight_url = consumer.prepare_preflight_url(launch_data)
        params = {k: v[0] for k, v in parse_qs(urlparse(preflight_url).query).items()}
        hint = params["lti_message_hint"]
        dl_data = None
        if spec["message_type"] == "LtiDeepLinkingRequest":
            dl_data = (spec.get("deep_linking") or {}).get("data") or secrets.token_urlsafe(16)
        with self.state.lock:
            self.state.launches[hint] = Launch(hint, spec, dl_data)
            if context.get("id"):
                self.state.contexts[context["id"]] = context
        return json_response(
            {
                "login_url": tool.login_url,
                "login_params": params,
                "preflight_url": preflight_url,
                "launch_page_url": f"{self.base_url}/launch/{hint}",
                "lti_message_hint": hint,
                "deep_linking_data": dl_data,
            }
        )

    def admin_sign(self, req: Request) -> Response:
        """``POST /admin/sign``: sign arbitrary claims with a platform key.

        Glue: the library's ``encode_and_sign`` cannot take extra JOSE headers, so this signs
        with the same key object through PyJWT directly.
        """
        body = req.json_object()
        claims = body.get("claims")
        if not isinstance(claims, dict):
            raise HttpError(400, "claims must be an object")
        try:
            key = self.state.keys.pick(body.get("key") or "current")
        except ValueError as err:
            raise HttpError(400, str(err)) from err
        headers: dict[str, Any] = {"kid": key.kid}
        headers.update(body.get("headers") or {})
        headers = {k: v for k, v in headers.items() if v is not None}
        token = jwt.encode(claims, key.handler.key.key, algorithm="RS256", headers=headers)
        return json_response({"jwt": token, "kid": headers.get("kid")})

    def admin_id_token(self, req: Request) -> Response:
        """``POST /admin/id_token``: a library-built launch id_token, re-signed with overrides.

        ``overrides`` maps claim names to new values; ``null`` deletes the claim.
        """
        body = req.json_object()
        hint = body.get("lti_message_hint")
        nonce = body.get("nonce")
        if not hint or not nonce:
            raise HttpError(400, "lti_message_hint and nonce are required")
        tool = self.require_tool()
        launch = self._launch(hint)
        claims = jwt.decode(
            self._build_id_token(
                tool,
                launch,
                {
                    "lti_message_hint": hint,
                    "nonce": nonce,
                    "state": body.get("state") or secrets.token_urlsafe(8),
                    "redirect_uri": body.get("redirect_uri") or tool.redirect_uris[0],
                    "client_id": tool.client_id,
                },
            )["id_token"],
            options={"verify_signature": False},
        )
        for name, value in (body.get("overrides") or {}).items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        try:
            key = self.state.keys.pick(body.get("key") or "current")
        except ValueError as err:
            raise HttpError(400, str(err)) from err
        # encode_and_sign without expiration keeps iat/exp exactly as overridden.
        return json_response({"id_token": key.handler.encode_and_sign(claims), "claims": claims})

    def admin_rotate_keys(self, req: Request) -> Response:
        """``POST /admin/rotate_keys``."""
        with self.state.lock:
            key = self.state.keys.rotate()
            previous = self.state.keys.previous
        return json_response({"current_kid": key.kid, "previous_kid": previous and previous.kid})

    def admin_retire_previous_key(self, req: Request) -> Response:
        """``POST /admin/retire_previous_key``."""
        with self.state.lock:
            self.state.keys.retire_previous()
        return json_response({"current_kid": self.state.keys.current.kid, "previous_kid": None})

    def admin_stats(self, req: Request) -> Response:
        """``GET /admin/stats``."""
        with self.state.lock:
            return json_response(
                {
                    "tokens_issued": self.state.tokens_issued,
                    "requests_by_path": dict(self.state.requests_by_path),
                }
            )

    def admin_scores(self, req: Request) -> Response:
        """``GET /admin/scores``: every accepted score, in order."""
        with self.state.lock:
            return json_response(copy.deepcopy(self.state.scores))

    def admin_line_items(self, req: Request) -> Response:
        """``GET /admin/line_items?context_id=``: line items without a token."""
        ctx = req.query.get("context_id")
        with self.state.lock:
            if ctx:
                items = list(self.state.line_items.get(ctx, {}).values())
            else:
                items = [i for c in self.state.line_items.values() for i in c.values()]
            return json_response(copy.deepcopy(items))

    def admin_members(self, req: Request) -> Response:
        """``POST /admin/members``: set a context's roster (validated by the library)."""
        body = req.json_object()
        ctx = body.get("context_id")
        members = body.get("members")
        if not ctx or not isinstance(members, list):
            raise HttpError(400, "context_id and members (list) are required")
        stored = []
        for member in members:
            serializer = MemberSerializer(data=member)
            if not serializer.is_valid():
                raise HttpError(400, f"invalid member {member!r}: {serializer.errors}")
            if not isinstance(member.get("roles"), list) or not member["roles"]:
                raise HttpError(400, f"member {member.get('user_id')!r} needs a roles list")
            stored.append(dict(member))
        with self.state.lock:
            self.state.members[ctx] = stored
            if "context" in body:
                self.state.contexts[ctx] = {"id": ctx, **(body.get("context") or {})}
        return json_response({"context_id": ctx, "count": len(stored)})

    def admin_deep_links(self, req: Request) -> Response:
        """``GET /admin/deep_links``: accepted deep-linking responses, in order."""
        with self.state.lock:
            return json_response(copy.deepcopy(self.state.deep_links))

    def admin_registration_token(self, req: Request) -> Response:
        """``POST /admin/registration_token``: a one-time bearer token for ``POST /register``."""
        token = secrets.token_urlsafe(24)
        with self.state.lock:
            self.state.registration_tokens[token] = time.time() + 3600
        config_url = f"{self.base_url}/.well-known/openid-configuration"
        return json_response(
            {
                "token": token,
                "openid_configuration_url": config_url,
                # The query a platform adds to the tool's registration initiation URL.
                "registration_params": {
                    "openid_configuration": config_url,
                    "registration_token": token,
                },
            }
        )

    def admin_registrations(self, req: Request) -> Response:
        """``GET /admin/registrations``: dynamic registrations received."""
        with self.state.lock:
            return json_response(copy.deepcopy(self.state.registrations))

    def admin_faults(self, req: Request) -> Response:
        """``POST /admin/faults`` adds a fault; ``DELETE`` clears them all."""
        if req.method == "DELETE":
            with self.state.lock:
                self.state.faults.clear()
            return json_response({"faults": []})
        body = req.json_object()
        prefix = body.get("path_prefix")
        status = body.get("status")
        if not isinstance(prefix, str) or not prefix.startswith("/"):
            raise HttpError(400, "path_prefix must be a path starting with /")
        if status in ("timeout", "close"):
            fault = Fault(prefix, status, seconds=float(body.get("seconds", 10)))
        elif isinstance(status, int) and 100 <= status <= 599:
            fault = Fault(prefix, "status", status=status)
        else:
            raise HttpError(400, 'status must be an HTTP status, "timeout" or "close"')
        fault.count = int(body.get("count", 1))
        with self.state.lock:
            self.state.faults.append(fault)
            return json_response({"faults": [f.__dict__ for f in self.state.faults]})

    def admin_reset(self, req: Request) -> Response:
        """``POST /admin/reset``: keep tool and keys, forget the rest."""
        with self.state.lock:
            self.state.reset()
        return json_response({"reset": True})

    # ------------------------------------------------------------------ OIDC

    def jwks(self, req: Request) -> Response:
        """``GET /jwks``: current (and, during a rotation, previous) public key."""
        with self.state.lock:
            return json_response(self.state.keys.jwks())

    def launch_page(self, req: Request) -> Response:
        """``GET /launch/<hint>``: the Moodle-style auto-submitting login initiation (POST)."""
        tool = self.require_tool()
        launch = self._launch(req.params["hint"])
        consumer = self.consumer(tool, launch_url=launch.spec.get("target_link_uri"))
        params = {
            "iss": self.base_url,
            "login_hint": launch.spec["user"]["sub"],
            "target_link_uri": self._target_link_uri(consumer, launch),
            "lti_message_hint": launch.hint,
            "client_id": tool.client_id,
            "lti_deployment_id": tool.deployment_id,
        }
        return html_response(_autopost_page(tool.login_url, params, "LTI login"))

    def authorize(self, req: Request) -> Response:
        """``GET|POST /authorize``: OIDC auth endpoint, validated like Moodle's auth.php."""
        params = req.params_any()
        tool = self.require_tool()
        expected = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
        }
        for name, value in expected.items():
            if params.get(name) != value:
                raise HttpError(
                    400, f"{name} must be {value!r}, got {params.get(name)!r}", "invalid_request"
                )
        if params.get("client_id") != tool.client_id:
            raise HttpError(
                400, f"unknown client_id {params.get('client_id')!r}", "unauthorized_client"
            )
        if params.get("redirect_uri") not in tool.redirect_uris:
            raise HttpError(
                400,
                f"redirect_uri {params.get('redirect_uri')!r} not registered",
                "invalid_request_uri",
            )
        for name in ("nonce", "state", "login_hint", "lti_message_hint"):
            if not params.get(name):
                raise HttpError(400, f"{name} is required", "invalid_request")
        launch = self._launch(params["lti_message_hint"])
        if params["login_hint"] != launch.spec["user"]["sub"]:
            raise HttpError(400, "login_hint does not match the launch's user", "login_required")
        result = self._build_id_token(tool, launch, params)
        if req.wants_json():
            return json_response({"action": params["redirect_uri"], **result})
        return html_response(_autopost_page(params["redirect_uri"], result, "LTI launch"))

    def _launch(self, hint: str) -> Launch:
        """A stored launch, or 400."""
        with self.state.lock:
            launch = self.state.launches.get(hint)
        if launch is None:
            raise HttpError(400, "unknown or expired lti_message_hint", "invalid_request")
        return launch

    def _target_link_uri(self, consumer: LtiAdvantageConsumer, launch: Launch) -> str:
        """What the library would put in ``target_link_uri`` for this launch."""
        cached = get_data_from_cache(launch.hint)
        return consumer._get_target_link_uri(cached) if cached else consumer.launch_url

    def _build_id_token(
        self, tool: ToolConfig, launch: Launch, params: dict[str, str]
    ) -> dict[str, str]:
        """Have the library build and sign the launch id_token for ``launch``."""
        spec = launch.spec
        if get_data_from_cache(launch.hint) is None:
            # The library keeps launch data 600 s in the Django cache.
            raise HttpError(400, "launch data expired in the platform cache", "invalid_request")
        consumer = self.consumer(tool, launch_url=spec.get("target_link_uri"))
        user = spec["user"]
        consumer.set_user_data(
            user["sub"],
            None,
            full_name=user.get("name"),
            email_address=user.get("email"),
            preferred_username=user.get("preferred_username"),
        )
        # Glue: set_user_data only maps Open edX role names; tests give LTI role URIs.
        consumer.lti_claim_user_data[CLAIM + "roles"] = list(user.get("roles") or [])
        link = spec.get("resource_link") or {}
        if link.get("id"):
            consumer.set_resource_link_claim(
                link["id"], description=link.get("description"), title=link.get("title")
            )
        context = spec.get("context") or {}
        if context.get("id"):
            consumer.set_context_claim(
                context["id"],
                context_types=[LTI_1P3_CONTEXT_TYPE.course_offering],
                context_title=context.get("title"),
                context_label=context.get("label"),
            )
        consumer.set_launch_presentation_claim(
            document_target=spec.get("document_target", "iframe"), return_url=spec.get("return_url")
        )
        if spec.get("custom"):
            consumer.set_custom_parameters(dict(spec["custom"]))
        ctx_id = context.get("id") or "none"
        if spec.get("ags"):
            consumer.enable_ags(
                f"{self.base_url}/ags/{ctx_id}/lineitems",
                lineitem_url=spec.get("lineitem"),
                allow_programmatic_grade_interaction=True,
            )
        if spec.get("nrps"):
            consumer.enable_nrps(f"{self.base_url}/nrps/{ctx_id}/memberships")
        if launch.dl_data is not None:
            _customise_deep_linking_claim(consumer, spec.get("deep_linking") or {}, launch.dl_data)
        try:
            result = consumer.generate_launch_request(
                {
                    "lti_message_hint": launch.hint,
                    "nonce": params["nonce"],
                    "state": params["state"],
                    "redirect_uri": params["redirect_uri"],
                    "client_id": params.get("client_id", tool.client_id),
                }
            )
        except lti_exc.PreflightRequestValidationFailure as err:
            raise HttpError(400, "preflight response refused by the library") from err
        if spec["message_type"] == "LtiSubmissionReviewRequest":
            result["id_token"] = _as_submission_review(consumer, result["id_token"], spec)
        return {"id_token": result["id_token"], "state": result["state"]}

    # ------------------------------------------------------------------ OAuth2

    def token(self, req: Request) -> Response:
        """``POST /token``: client-credentials grant with a JWT client assertion."""
        form = req.form()
        tool = self.require_tool()
        if not tool.jwks_url:
            raise HttpError(400, "tool has no jwks_url configured", "invalid_client")
        if form.get("client_assertion_type") != JWT_BEARER:
            # Glue: the library only checks that the field is present.
            raise HttpError(400, f"client_assertion_type must be {JWT_BEARER}")
        consumer = self.consumer(tool)
        try:
            answer = consumer.access_token(form)
        except lti_exc.MissingRequiredClaim as err:
            raise HttpError(400, str(err), "invalid_request") from err
        except lti_exc.UnsupportedGrantType as err:
            raise HttpError(
                400, "grant_type must be client_credentials", "unsupported_grant_type"
            ) from err
        except (lti_exc.Lti1p3Exception, jwt.PyJWTError) as err:
            raise HttpError(401, f"client assertion refused: {err!r}", "invalid_client") from err
        self._check_client_assertion(tool, form["client_assertion"])
        if not answer["scope"]:
            raise HttpError(400, "no supported scope requested", "invalid_scope")
        with self.state.lock:
            self.state.tokens_issued += 1
        # Glue: the library answers token_type "bearer"; RFC 6750 spells it "Bearer".
        answer["token_type"] = "Bearer"
        return json_response(answer)

    def _check_client_assertion(self, tool: ToolConfig, assertion: str) -> None:
        """Glue: claims the library does not check (iss, sub, aud, exp, iat, jti)."""
        claims = jwt.decode(assertion, options={"verify_signature": False})
        if claims.get("iss") != tool.client_id or claims.get("sub") != tool.client_id:
            raise HttpError(
                401, "assertion iss and sub must both be the client_id", "invalid_client"
            )
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if self.token_url not in auds:
            raise HttpError(401, f"assertion aud must contain {self.token_url}", "invalid_client")
        now = time.time()
        if not isinstance(claims.get("exp"), int | float) or claims["exp"] <= now:
            raise HttpError(401, "assertion exp missing or past", "invalid_client")
        if isinstance(claims.get("iat"), int | float) and claims["iat"] > now + CLOCK_SKEW:
            raise HttpError(401, "assertion iat in the future", "invalid_client")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise HttpError(401, "assertion jti missing", "invalid_client")
        with self.state.lock:
            if jti in self.state.used_jtis:
                raise HttpError(401, "assertion jti already used", "invalid_client")
            self.state.used_jtis.add(jti)

    def require_scope(self, req: Request, *scopes: str) -> None:
        """401 unless the Bearer token was issued by us and carries one of ``scopes``.

        Glue: ``check_token`` verifies with one key; after a rotation a token signed with the
        previous key is still valid, so every published key is tried.
        """
        auth = req.headers.get("Authorization") or ""
        if not auth.lower().startswith("bearer "):
            raise HttpError(
                401, "Bearer token required", "invalid_token", {"WWW-Authenticate": "Bearer"}
            )
        token = auth.split(None, 1)[1].strip()
        tool = self.require_tool()
        consumer = self.consumer(tool)
        for key in self.state.keys.published():
            consumer.key_handler = key.handler
            try:
                allowed = consumer.check_token(token, list(scopes))
            except jwt.PyJWTError:
                continue
            if allowed:
                return
            raise HttpError(
                401,
                f"token lacks scope {' or '.join(scopes)}",
                "insufficient_scope",
                {"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
            )
        raise HttpError(
            401,
            "invalid or expired access token",
            "invalid_token",
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )

    # ------------------------------------------------------------------ AGS (glue)

    def _line_item_url(self, ctx: str, item_id: str) -> str:
        return f"{self.base_url}/ags/{ctx}/lineitems/{item_id}"

    def _get_line_item(self, ctx: str, item_id: str) -> dict[str, Any]:
        item = self.state.line_items.get(ctx, {}).get(item_id)
        if item is None:
            raise HttpError(404, f"no line item {item_id} in context {ctx}", "not_found")
        return item

    def ags_line_items(self, req: Request) -> Response:
        """``GET|POST /ags/<ctx>/lineitems``: list (filtered) or create."""
        ctx = req.params["ctx"]
        if req.method == "GET":
            self.require_scope(req, SCOPE_LINEITEM, SCOPE_LINEITEM_RO)
            filters = {
                "resource_link_id": "resourceLinkId",
                "tag": "tag",
                "resource_id": "resourceId",
            }
            with self.state.lock:
                items = list(self.state.line_items.get(ctx, {}).values())
            for param, attr in filters.items():
                if param in req.query:
                    items = [i for i in items if i.get(attr) == req.query[param]]
            limit = _int_param(req.query.get("limit"))
            if limit:
                items = items[:limit]
            return json_response(items, content_type=CT_LINEITEMS)
        self.require_scope(req, SCOPE_LINEITEM)
        item = _validate_line_item(req.json_object())
        with self.state.lock:
            item_id = str(self.state.next_line_item)
            self.state.next_line_item += 1
            item["id"] = self._line_item_url(ctx, item_id)
            self.state.line_items.setdefault(ctx, {})[item_id] = item
        return json_response(item, 201, CT_LINEITEM)

    def ags_line_item(self, req: Request) -> Response:
        """``GET|PUT|DELETE /ags/<ctx>/lineitems/<id>``."""
        ctx, item_id = req.params["ctx"], req.params["item"]
        if req.method == "GET":
            self.require_scope(req, SCOPE_LINEITEM, SCOPE_LINEITEM_RO)
            with self.state.lock:
                return json_response(
                    dict(self._get_line_item(ctx, item_id)), content_type=CT_LINEITEM
                )
        self.require_scope(req, SCOPE_LINEITEM)
        with self.state.lock:
            current = self._get_line_item(ctx, item_id)
            if req.method == "DELETE":
                del self.state.line_items[ctx][item_id]
                return Response(204)
            item = _validate_line_item(req.json_object())
            # The spec forbids the platform from changing these; keep the stored ones.
            for attr in ("resourceId", "resourceLinkId", "tag"):
                if attr in current and attr not in item:
                    item[attr] = current[attr]
            item["id"] = current["id"]
            self.state.line_items[ctx][item_id] = item
            return json_response(item, content_type=CT_LINEITEM)

    def ags_scores(self, req: Request) -> Response:
        """``POST .../scores``: library-validated score, Moodle-like 409 and FullyGraded rule."""
        self.require_scope(req, SCOPE_SCORE)
        if req.content_type != CT_SCORE:
            raise HttpError(415, f"Content-Type must be {CT_SCORE}", "unsupported_media_type")
        ctx, item_id = req.params["ctx"], req.params["item"]
        body = req.json_object()
        with self.state.lock:
            item = self._get_line_item(ctx, item_id)
            user_id = str(body.get("userId") or "")
            key = (ctx, item_id, user_id)
            previous = self.state.latest_scores.get(key)
            instance = LtiAgsScore(timestamp=previous["_ts"]) if previous else None
            serializer = LtiAgsScoreSerializer(instance=instance, data=body)
            if not serializer.is_valid():
                errors = {k: [str(e) for e in v] for k, v in serializer.errors.items()}
                status = 409 if set(errors) == {"timestamp"} and previous else 400
                raise HttpError(
                    status,
                    f"score refused: {errors}",
                    "conflict" if status == 409 else "invalid_request",
                )
            data = serializer.validated_data
            _check_progress(data)
            score = {k: v for k, v in body.items() if k != "timestamp"}
            score["timestamp"] = body["timestamp"]
            if data["grading_progress"] != LtiAgsScore.FULLY_GRADED:
                # Moodle only records a grade once grading is complete.
                score.pop("scoreGiven", None)
            record = {
                "context_id": ctx,
                "line_item_id": item["id"],
                "line_item": dict(item),
                "score": score,
                "received_at": time.time(),
            }
            self.state.scores.append(record)
            self.state.latest_scores[key] = {**record, "_ts": data["timestamp"]}
        return Response(204)

    def ags_results(self, req: Request) -> Response:
        """``GET .../results``: latest score of each user as a result container."""
        self.require_scope(req, SCOPE_RESULT_RO)
        ctx, item_id = req.params["ctx"], req.params["item"]
        with self.state.lock:
            item = self._get_line_item(ctx, item_id)
            latest = [
                v for (c, i, _), v in self.state.latest_scores.items() if c == ctx and i == item_id
            ]
        results = []
        for record in latest:
            score = record["score"]
            if "user_id" in req.query and score["userId"] != req.query["user_id"]:
                continue
            maximum = score.get("scoreMaximum")
            result: dict[str, Any] = {
                "id": f"{item['id']}/results/{score['userId']}",
                "scoreOf": item["id"],
                "userId": score["userId"],
                # As the library's LtiAgsResultSerializer: a non-positive maximum reads as 1.
                "resultMaximum": maximum if isinstance(maximum, int | float) and maximum > 0 else 1,
            }
            if score.get("scoreGiven") is not None:
                result["resultScore"] = score["scoreGiven"]
            if score.get("comment"):
                result["comment"] = score["comment"]
            results.append(result)
        limit = _int_param(req.query.get("limit"))
        return json_response(results[:limit] if limit else results, content_type=CT_RESULTS)

    # ------------------------------------------------------------------ NRPS (glue)

    def nrps_memberships(self, req: Request) -> Response:
        """``GET /nrps/<ctx>/memberships`` with ``limit``/``offset`` paging and ``role``.

        The context is matched case-insensitively as a fallback because pylti1p3 lower-cases
        the whole ``Link`` header before following ``rel="next"``.
        """
        self.require_scope(req, SCOPE_NRPS)
        ctx = req.params["ctx"]
        with self.state.lock:
            if ctx not in self.state.members:
                ctx = next((c for c in self.state.members if c.lower() == ctx.lower()), ctx)
            members = list(self.state.members.get(ctx, []))
            context = dict(self.state.contexts.get(ctx) or {"id": ctx})
        if "role" in req.query:
            role = req.query["role"]
            members = [
                m for m in members if any(r == role or r.endswith("#" + role) for r in m["roles"])
            ]
        offset = _int_param(req.query.get("offset")) or 0
        limit = _int_param(req.query.get("limit"))
        page = members[offset : offset + limit] if limit else members[offset:]
        headers = {}
        if limit and offset + limit < len(members):
            query = {k: v for k, v in req.query.items() if k not in ("offset", "limit")}
            query.update(limit=str(limit), offset=str(offset + limit))
            next_url = f"{self.base_url}/nrps/{ctx}/memberships?{urlencode(query)}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        url = f"{self.base_url}{req.path}" + (f"?{req.query_string}" if req.query_string else "")
        body = {
            "id": url,
            "context": {k: context[k] for k in ("id", "label", "title") if context.get(k)},
            "members": [_render_member(m) for m in page],
        }
        return json_response(body, content_type=CT_MEMBERS, headers=headers)

    # ------------------------------------------------------------------ Deep linking

    def deep_link_return(self, req: Request) -> Response:
        """``POST /deep_link_return``: the library's check plus the claims it skips."""
        token = req.form().get("JWT") or req.form().get("jwt")
        if not token:
            raise HttpError(400, "form field JWT is required")
        tool = self.require_tool()
        if not tool.jwks_url:
            raise HttpError(400, "tool has no jwks_url configured", "invalid_client")
        consumer = self.consumer(tool)
        try:
            items = consumer.check_and_decode_deep_linking_token(token)
        except (lti_exc.Lti1p3Exception, jwt.PyJWTError, KeyError, TypeError) as err:
            raise HttpError(400, f"deep linking response refused by the library: {err!r}") from err
        claims = jwt.decode(token, options={"verify_signature": False})
        self._check_deep_link_claims(tool, claims)
        validated = []
        for item in items:
            serializer = LTI_DL_CONTENT_TYPE_SERIALIZER_MAP[item["type"]](data=item)
            if not serializer.is_valid():
                raise HttpError(400, f"invalid content item {item!r}: {serializer.errors}")
            validated.append(item)
        record = {
            "content_items": validated,
            "data": claims.get(DL_CLAIM + "data"),
            "msg": claims.get(DL_CLAIM + "msg"),
            "log": claims.get(DL_CLAIM + "log"),
            "errormsg": claims.get(DL_CLAIM + "errormsg"),
            "errorlog": claims.get(DL_CLAIM + "errorlog"),
            "claims": claims,
        }
        with self.state.lock:
            record["placements"] = self._place_content_items(validated, record["data"])
            self.state.deep_links.append(record)
        if req.wants_json():
            return json_response({"accepted": True, "count": len(validated)})
        return html_response(
            "<!doctype html><title>Content saved</title>"
            f"<p id='dl-result'>Saved {len(validated)} content item(s).</p>"
        )

    def _place_content_items(
        self, items: list[dict[str, Any]], data: str | None
    ) -> list[dict[str, Any]]:
        """Glue, Moodle-like: each ``ltiResourceLink`` becomes a placed link in the deep-linking
        launch's context, and its ``lineItem`` a gradebook line item bound to that link (Open
        edX stores the items only). Call with the lock held.
        """
        launch = next((la for la in self.state.launches.values() if la.dl_data == data), None)
        context_id = ((launch.spec.get("context") or {}).get("id") if launch else None) or "none"
        links = [item for item in items if item["type"] == "ltiResourceLink"]
        # Validate every line item before creating any, so a refusal leaves nothing behind.
        wanted = [
            _validate_line_item({"label": item.get("title"), **item["lineItem"]})
            if isinstance(item.get("lineItem"), dict)
            else None
            for item in links
        ]
        placements = []
        for item, line_item in zip(links, wanted, strict=True):
            link_id = f"dl-link-{len(self.state.deep_links) + 1}-{len(placements) + 1}"
            placement: dict[str, Any] = {
                "context_id": context_id,
                "resource_link_id": link_id,
                "title": item.get("title"),
                "url": item.get("url"),
                "custom": item.get("custom") or {},
                "lineitem": None,
            }
            if line_item is not None:
                line_item["resourceLinkId"] = link_id
                item_id = str(self.state.next_line_item)
                self.state.next_line_item += 1
                line_item["id"] = self._line_item_url(context_id, item_id)
                self.state.line_items.setdefault(context_id, {})[item_id] = line_item
                placement["lineitem"] = line_item["id"]
            placements.append(placement)
        return placements

    def _check_deep_link_claims(self, tool: ToolConfig, claims: dict[str, Any]) -> None:
        """Glue: aud, iss, deployment_id, nonce, iat/exp and data, which the library skips."""
        aud = claims.get("aud")
        if self.base_url not in (aud if isinstance(aud, list) else [aud]):
            raise HttpError(400, f"aud must be the platform issuer {self.base_url}")
        if claims.get("iss") != tool.client_id:
            raise HttpError(400, "iss must be the tool's client_id")
        if claims.get(CLAIM + "deployment_id") != tool.deployment_id:
            raise HttpError(400, "deployment_id does not match")
        if claims.get(CLAIM + "version") != "1.3.0":
            raise HttpError(400, "version must be 1.3.0")
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int | float) or not isinstance(exp, int | float):
            raise HttpError(400, "iat and exp are required")
        if iat > now + CLOCK_SKEW or iat < now - DL_MAX_AGE or exp <= now:
            raise HttpError(400, "token not fresh (iat/exp)")
        with self.state.lock:
            nonce = claims.get("nonce")
            if not isinstance(nonce, str) or not nonce:
                raise HttpError(400, "nonce is required")
            if nonce in self.state.dl_nonces:
                raise HttpError(400, "nonce already used")
            issued = {launch.dl_data for launch in self.state.launches.values() if launch.dl_data}
            if claims.get(DL_CLAIM + "data") not in issued:
                raise HttpError(400, "data does not echo any deep-linking request's data")
            self.state.dl_nonces.add(nonce)

    # ------------------------------------------------------------------ Dynamic registration

    def openid_configuration(self, req: Request) -> Response:
        """``GET /.well-known/openid-configuration`` (LTI Dynamic Registration 1.0, §3.4)."""
        return json_response(
            {
                "issuer": self.base_url,
                "authorization_endpoint": f"{self.base_url}/authorize",
                "token_endpoint": self.token_url,
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
                "jwks_uri": f"{self.base_url}/jwks",
                "registration_endpoint": f"{self.base_url}/register",
                "scopes_supported": [
                    "openid",
                    SCOPE_LINEITEM,
                    SCOPE_LINEITEM_RO,
                    SCOPE_RESULT_RO,
                    SCOPE_SCORE,
                    SCOPE_NRPS,
                ],
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public", "pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": ["iss", "aud", "sub", "name", "email", "preferred_username"],
                "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                    "product_family_code": "openedx",
                    "version": "lti-consumer-xblock",
                    "messages_supported": [{"type": t} for t in MESSAGE_TYPES],
                    "variables": [],
                },
            }
        )

    def register(self, req: Request) -> Response:
        """``POST /register``: validate a client registration and make it the tool."""
        auth = req.headers.get("Authorization") or ""
        token = auth.split(None, 1)[1].strip() if auth.lower().startswith("bearer ") else ""
        with self.state.lock:
            expiry = self.state.registration_tokens.pop(token, None)
        if expiry is None or expiry < time.time():
            raise HttpError(
                401, "registration token missing, unknown, used or expired", "invalid_token"
            )
        body = req.json_object()
        tool_conf = _validate_registration(body)
        client_id = f"peer-{uuid.uuid4().hex[:12]}"
        deployment_id = str(len(self.state.registrations) + 1)
        messages = tool_conf.get("messages") or []
        dl_url = next(
            (
                m.get("target_link_uri")
                for m in messages
                if m.get("type") == "LtiDeepLinkingRequest" and m.get("target_link_uri")
            ),
            tool_conf["target_link_uri"],
        )
        tool = ToolConfig(
            client_id=client_id,
            deployment_id=deployment_id,
            login_url=body["initiate_login_uri"],
            launch_url=tool_conf["target_link_uri"],
            redirect_uris=list(body["redirect_uris"]),
            jwks_url=body["jwks_uri"],
            deep_link_launch_url=dl_url,
        )
        answer = dict(body)
        answer["client_id"] = client_id
        answer["registration_client_uri"] = f"{self.base_url}/register/{client_id}"
        answer["https://purl.imsglobal.org/spec/lti-tool-configuration"] = {
            **tool_conf,
            "deployment_id": deployment_id,
        }
        with self.state.lock:
            self.state.tool = tool
            self.state.registrations.append(answer)
        return json_response(answer)


# ---------------------------------------------------------------------- module helpers


class MemberSerializer(LtiNrpsContextMemberPIISerializer):
    """The library's NRPS member serializer, with roles passed through.

    Glue: the library maps Open edX role names to LTI URIs; tests give the URIs directly.
    """

    def get_roles(self, user_info: dict[str, Any]) -> list[str]:
        return list(user_info["roles"])


def _render_member(member: dict[str, Any]) -> dict[str, Any]:
    """One NRPS member, shaped by the library's serializer plus optional extra fields."""
    shaped = dict(
        MemberSerializer(
            {**member, "external_id": member["user_id"], "status": member.get("status", "Active")}
        ).data
    )
    for extra in ("given_name", "family_name", "picture", "lis_person_sourcedid"):
        if member.get(extra):
            shaped[extra] = member[extra]
    return {k: v for k, v in shaped.items() if v is not None}


def _validate_launch_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """400 on a malformed ``POST /admin/launch`` body."""
    if spec.get("message_type", "LtiResourceLinkRequest") not in MESSAGE_TYPES:
        raise HttpError(400, f"message_type must be one of {MESSAGE_TYPES}")
    spec.setdefault("message_type", "LtiResourceLinkRequest")
    user = spec.get("user")
    if not isinstance(user, dict) or not user.get("sub"):
        raise HttpError(400, "user.sub is required")
    if not isinstance(user.get("roles", []), list):
        raise HttpError(400, "user.roles must be a list of role URIs")
    if spec["message_type"] != "LtiDeepLinkingRequest" and not (
        spec.get("resource_link") or {}
    ).get("id"):
        raise HttpError(400, "resource_link.id is required")
    if spec["message_type"] == "LtiSubmissionReviewRequest" and not (
        spec.get("for_user") or {}
    ).get("sub"):
        raise HttpError(400, "for_user.sub is required for LtiSubmissionReviewRequest")
    if spec.get("custom") is not None and not isinstance(spec["custom"], dict):
        raise HttpError(400, "custom must be an object")
    accept_types = (spec.get("deep_linking") or {}).get("accept_types") or []
    unsupported = [t for t in accept_types if t not in LTI_DEEP_LINKING_ACCEPTED_TYPES]
    if unsupported:
        # The library would raise while signing; say it now, at launch creation.
        raise HttpError(
            400,
            f"accept_types not supported by Open edX: {unsupported}; "
            f"supported: {LTI_DEEP_LINKING_ACCEPTED_TYPES}",
        )
    return spec


def _customise_deep_linking_claim(
    consumer: LtiAdvantageConsumer, options: dict[str, Any], data: str
) -> None:
    """Glue: the library builds the deep-linking claim with no ``data`` and fixed settings."""
    original = consumer.dl.get_lti_deep_linking_launch_claim
    accept_types = options.get("accept_types") or list(LTI_DEEP_LINKING_ACCEPTED_TYPES)

    @functools.wraps(original)
    def claim(**_: Any) -> dict[str, Any]:
        built = original(
            title=options.get("title", ""),
            description=options.get("text", ""),
            accept_types=accept_types,
            extra_data=data,
        )
        settings = built[DL_CLAIM + "deep_linking_settings"]
        if "accept_multiple" in options:
            settings["accept_multiple"] = bool(options["accept_multiple"])
        if "auto_create" in options:
            settings["auto_create"] = bool(options["auto_create"])
        return built

    consumer.dl.get_lti_deep_linking_launch_claim = claim


def _as_submission_review(
    consumer: LtiAdvantageConsumer, id_token: str, spec: dict[str, Any]
) -> str:
    """Glue: the library has no LtiSubmissionReviewRequest; retype a resource-link launch."""
    claims = consumer.key_handler.validate_and_decode(id_token)
    claims[CLAIM + "message_type"] = "LtiSubmissionReviewRequest"
    for_user = spec["for_user"]
    claims[CLAIM + "for_user"] = {
        "user_id": for_user["sub"],
        **{k: v for k, v in for_user.items() if k != "sub"},
    }
    return consumer.key_handler.encode_and_sign(claims)


def _validate_line_item(data: dict[str, Any]) -> dict[str, Any]:
    """Glue: the library's line-item serializer wants Open edX usage keys, so check by hand."""
    label = data.get("label")
    if not isinstance(label, str) or not label.strip():
        raise HttpError(400, "label is required")
    maximum = data.get("scoreMaximum")
    if (
        isinstance(maximum, bool)
        or not isinstance(maximum, int | float)
        or maximum <= 0
        or not math.isfinite(maximum)
    ):
        raise HttpError(400, "scoreMaximum must be a number > 0")
    allowed = (
        "label",
        "scoreMaximum",
        "resourceId",
        "resourceLinkId",
        "tag",
        "startDateTime",
        "endDateTime",
        "gradesReleased",
    )
    return {k: data[k] for k in allowed if k in data}


def _check_progress(data: dict[str, Any]) -> None:
    """Glue: the serializer declares plain CharFields; the model's choices are the rule."""
    activity = {c for c, _ in LtiAgsScore.ACTIVITY_PROGRESS_CHOICES}
    grading = {c for c, _ in LtiAgsScore.GRADING_PROGRESS_CHOICES}
    if data["activity_progress"] not in activity:
        raise HttpError(400, f"activityProgress must be one of {sorted(activity)}")
    if data["grading_progress"] not in grading:
        raise HttpError(400, f"gradingProgress must be one of {sorted(grading)}")


def _validate_registration(body: dict[str, Any]) -> dict[str, Any]:
    """LTI Dynamic Registration 1.0 §3.5 checks; returns the tool configuration claim."""

    def need(cond: bool, message: str) -> None:
        if not cond:
            raise HttpError(400, message, "invalid_client_metadata")

    need(body.get("application_type") == "web", "application_type must be web")
    need(body.get("response_types") == ["id_token"], "response_types must be [id_token]")
    grants = body.get("grant_types") or []
    need(
        set(grants) >= {"implicit", "client_credentials"},
        "grant_types must include implicit and client_credentials",
    )
    need(
        isinstance(body.get("initiate_login_uri"), str) and body["initiate_login_uri"],
        "initiate_login_uri is required",
    )
    uris = body.get("redirect_uris")
    need(
        isinstance(uris, list) and bool(uris) and all(isinstance(u, str) for u in uris),
        "redirect_uris must be a non-empty list",
    )
    need(isinstance(body.get("jwks_uri"), str) and body["jwks_uri"], "jwks_uri is required")
    need(
        body.get("token_endpoint_auth_method") == "private_key_jwt",
        "token_endpoint_auth_method must be private_key_jwt",
    )
    conf = body.get("https://purl.imsglobal.org/spec/lti-tool-configuration")
    need(isinstance(conf, dict), "lti-tool-configuration is required")
    need(isinstance(conf.get("domain"), str) and conf["domain"], "tool domain is required")
    need(
        isinstance(conf.get("target_link_uri"), str) and conf["target_link_uri"],
        "tool target_link_uri is required",
    )
    messages = conf.get("messages", [])
    need(
        isinstance(messages, list) and all(isinstance(m, dict) and m.get("type") for m in messages),
        "messages must be a list of objects with a type",
    )
    host = urlparse(conf["target_link_uri"]).hostname or ""
    need(host == conf["domain"].split(":")[0], "target_link_uri must be on the tool's domain")
    return dict(conf)


def _int_param(value: str | None) -> int | None:
    """A positive integer query parameter, or None."""
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError as err:
        raise HttpError(400, f"not an integer: {value!r}") from err
    if number < 0:
        raise HttpError(400, f"must not be negative: {value!r}")
    return number


def _autopost_page(action: str, fields: dict[str, str], title: str) -> str:
    """An HTML page whose form POSTs ``fields`` to ``action`` as soon as it loads."""
    inputs = "\n".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(str(v))}">'
        for k, v in fields.items()
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "</head><body>"
        f'<form id="autopost" method="post" action="{html.escape(action)}">{inputs}'
        '<noscript><button type="submit">Continue</button></noscript></form>'
        "<script>document.getElementById('autopost').submit();</script>"
        "</body></html>"
    )
