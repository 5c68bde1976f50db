"""LTI endpoints: OIDC login initiation, launch, and the tool's public keys."""

from __future__ import annotations

import logging
from typing import Any, cast
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import Blueprint, Response, jsonify, redirect, render_template, request
from pylti1p3.exception import OIDCException
from werkzeug.wrappers import Response as WerkzeugResponse

from ltiservice import db
from ltiservice.assessments.routing import route_launch
from ltiservice.errors import LaunchError
from ltiservice.lti import adapter
from ltiservice.lti.context import remember_launch
from ltiservice.lti.identity import record_launch
from ltiservice.lti.launch import launch_error, points_at_tool, unverified_claims
from ltiservice.lti.storage import remember_storage_state, storage_target, take_storage_state
from ltiservice.lti.tool_conf import is_pending
from ltiservice.models import Platform
from ltiservice.security import allow_framing, organisation_origins

bp = Blueprint("lti", __name__, url_prefix="/lti")
log = logging.getLogger(__name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    """Third-party initiated login: answer with the redirect to the platform's auth endpoint."""
    params = request.values
    target = params.get("target_link_uri", "")
    if not points_at_tool(target, adapter.settings().base_url):
        raise launch_error("bad_target", 400)
    lti_request = adapter.flask_request(request_data=params)
    conf = adapter.tool_conf()
    platform = conf.find_platform(params.get("iss", ""), params.get("client_id"))
    if platform is None:
        if is_pending(db.session(), params.get("iss", ""), params.get("client_id")):
            raise LaunchError(
                "Cette plateforme vient d'être enregistrée et attend la validation de "
                "l'exploitant du service d'évaluation. Réessayez une fois qu'il l'aura validée.",
                code="registration_pending",
            )
        raise launch_error("unknown_registration")
    _allow_framing_by_organisation(platform)
    oidc, cookies = adapter.new_oidc_login(lti_request)
    storage = storage_target(params.get("lti_storage_target"))
    try:
        if storage:
            return _login_with_platform_storage(oidc, cookies, storage)
        # pylti1p3's redirect writes the state cookie onto the response itself.
        response = oidc.redirect(adapter.launch_url())
    except OIDCException as exc:
        raise LaunchError(
            "La demande de connexion de la plateforme est incomplète (iss, login_hint).",
            code="bad_login",
            status=400,
        ) from exc
    return response  # type: ignore[no-any-return]


def _login_with_platform_storage(oidc: object, cookies: object, target: str) -> Response:
    """Store state and nonce in the platform (postMessage), then go to its auth endpoint.

    The state cookie is still set: where the browser keeps it, either proof is enough.
    """
    url = oidc.get_redirect_object(adapter.launch_url()).get_redirect_url()  # type: ignore[attr-defined]
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    remember_storage_state(adapter.store(), query["state"], query["nonce"], 600)
    response = Response(
        render_template(
            "lti/platform_storage.html",
            mode="login",
            target=target,
            origin=_origin(url),
            state=query["state"],
            nonce=query["nonce"],
            next_url=url + "&" + urlencode({"lti_storage_target": target}),
        )
    )
    cookies.update_response(response)  # type: ignore[attr-defined]
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _allow_framing_by_organisation(platform: Platform) -> None:
    """Pages before a launch (cookie check, a refused launch) show in any frame of the
    organisation's platforms: which of its pages opened them is not known yet."""
    allow_framing(organisation_origins(db.session(), platform.organisation_id))


def _claimed_platform() -> Platform | None:
    """The platform the posted id_token names, unverified: only to choose how to answer."""
    body = unverified_claims(request.form.get("id_token", ""))
    if body is None:
        return None  # validation refuses it with the right message
    aud = body.get("aud")
    client_id = body.get("azp") or (aud[0] if isinstance(aud, list) and aud else aud)
    return adapter.tool_conf().find_platform(str(body.get("iss") or ""), str(client_id or ""))


def _storage_check_page(target: str, platform: Platform | None) -> Response | None:
    """The page that reads the state back from platform storage, or None if not applicable."""
    if platform is None:
        return None
    response = Response(
        render_template(
            "lti/platform_storage.html",
            mode="launch",
            target=target,
            origin=_origin(platform.auth_login_url),
            state=request.form.get("state", ""),
            id_token=request.form.get("id_token", ""),
        )
    )
    # With `no-referrer` browsers send `Origin: null`; the re-post must carry ours.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _state_from_platform_storage() -> str | None:
    """For a launch re-posted by our storage check page: the nonce issued with its state.

    Only our own page can re-post with the marker: a cross-site forged POST carries its own
    `Origin`, and the state must have been issued for platform storage and not used yet.
    """
    if request.form.get("lti_storage_verified") != "1":
        return None
    if request.headers.get("Origin") != _origin(adapter.settings().base_url):
        raise launch_error("storage_refused")
    nonce = take_storage_state(adapter.store(), request.form.get("state", ""))
    if nonce is None:
        raise launch_error("storage_refused")
    return nonce


@bp.post("/launch")
def launch() -> WerkzeugResponse:
    """Validate the id_token, record who launched, then open the right page."""
    claimed = _claimed_platform()
    if claimed is not None:
        _allow_framing_by_organisation(claimed)
    state = request.form.get("state", "")
    storage = storage_target(request.form.get("lti_storage_target"))
    has_cookie = bool(state) and request.cookies.get(f"lti1p3-{state}") == state
    storage_nonce = _state_from_platform_storage() if storage and not has_cookie else None
    if storage and not has_cookie and storage_nonce is None:
        page = _storage_check_page(storage, claimed)
        if page is not None:
            return page
    lti_request = adapter.flask_request(request_data=request.form)
    message_launch, _cookies = adapter.new_message_launch(lti_request)
    if storage_nonce is not None:
        message_launch.trust_platform_storage(storage_nonce)
    message_launch.validate()
    body = cast(dict[str, Any], message_launch.get_launch_data())
    platform = adapter.tool_conf().find_platform(body["iss"], message_launch.get_client_id())
    if platform is None:  # deleted between validation and now
        raise launch_error("unknown_registration")
    context = record_launch(db.session(), platform, message_launch.get_launch_id(), body)
    db.session().commit()
    context = remember_launch(context)
    log.info("launch %s accepted (%s)", context.message_type, ",".join(context.roles) or "-")
    destination = route_launch(db.session(), context, body)
    db.session().commit()
    response = redirect(destination, code=303)
    # The state did its job: a state is good for one launch.
    response.delete_cookie(f"lti1p3-{state}", path="/", secure=True, httponly=True, samesite="None")
    return response


@bp.get("/jwks")
def jwks() -> Response:
    """The tool's public keys, current and previous, for platforms to verify our JWTs."""
    response = jsonify(adapter.keyring().jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
