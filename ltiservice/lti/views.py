"""LTI endpoints: OIDC login initiation, launch, and the tool's public keys."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, redirect, request
from pylti1p3.exception import OIDCException

from ltiservice import db
from ltiservice.assessments.routing import route_launch
from ltiservice.errors import LaunchError
from ltiservice.lti import adapter
from ltiservice.lti.context import remember_launch
from ltiservice.lti.identity import record_launch
from ltiservice.lti.launch import launch_error, points_at_tool

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
    if conf.find_platform(params.get("iss", ""), params.get("client_id")) is None:
        raise launch_error("unknown_registration")
    oidc, _cookies = adapter.new_oidc_login(lti_request)
    try:
        # pylti1p3's redirect writes the state cookie onto the response itself.
        response = oidc.redirect(adapter.launch_url())
    except OIDCException as exc:
        raise LaunchError(
            "La demande de connexion de la plateforme est incomplète (iss, login_hint).",
            code="bad_login",
            status=400,
        ) from exc
    return response  # type: ignore[no-any-return]


@bp.post("/launch")
def launch() -> Response:
    """Validate the id_token, record who launched, then open the right page."""
    lti_request = adapter.flask_request(request_data=request.form)
    message_launch, _cookies = adapter.new_message_launch(lti_request)
    message_launch.validate()
    body = message_launch.get_launch_data()
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
    state = request.form.get("state", "")
    response.delete_cookie(f"lti1p3-{state}", path="/", secure=True, httponly=True, samesite="None")
    return response


@bp.get("/jwks")
def jwks() -> Response:
    """The tool's public keys, current and previous, for platforms to verify our JWTs."""
    response = jsonify(adapter.keyring().jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
