"""The demo platform's service endpoints, called by the tool's AGS / NRPS clients and the
outbox worker: OAuth 2.0 token, line items, scores, results, and the course roster."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ltiservice.demo import cast, trust
from ltiservice.demo.gradebook import Gradebook
from ltiservice.demo.platform import AGS_SCOPES, NRPS_SCOPE, DemoUrls
from ltiservice.errors import ServiceError
from ltiservice.lti import adapter

bp = Blueprint("demo_api", __name__, url_prefix="/demo/api")

SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE = AGS_SCOPES
MEDIA_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_LINEITEMS = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MEDIA_RESULTS = "application/vnd.ims.lis.v2.resultcontainer+json"
MEDIA_MEMBERSHIP = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


def _urls() -> DemoUrls:
    return DemoUrls(adapter.settings().base_url)


def _book() -> Gradebook:
    return Gradebook(adapter.store(), _urls())


def _scope(*scopes: str) -> None:
    """At least one of `scopes` must be granted to the bearer token."""
    errors: list[ServiceError] = []
    for scope in scopes:
        try:
            trust.require_scope(adapter.store(), request.headers.get("Authorization"), scope)
            return
        except ServiceError as exc:
            errors.append(exc)
    raise min(errors, key=lambda e: e.status)


def _json(body: Any, media: str, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.content_type = media
    return response


@bp.errorhandler(ServiceError)
def _error(exc: ServiceError) -> tuple[Response, int]:
    if isinstance(exc, trust.OAuthError):
        return jsonify({"error": exc.code, "error_description": exc.message}), exc.status
    return jsonify({"error": exc.code, "message": exc.message}), exc.status


@bp.post("/token")
def token() -> Response:
    """Client-credentials grant with the tool's JWT assertion (RFC 7523)."""
    allowed = {*AGS_SCOPES, NRPS_SCOPE}
    body = trust.issue_access_token(
        adapter.store(), adapter.keyring(), request.form.to_dict(), _urls().token, allowed
    )
    return jsonify(body)


@bp.route("/lineitems", methods=["GET", "POST"])
def lineitems() -> Response:
    """The demo course's line items (GET with AGS filters), or a new one (POST)."""
    if request.method == "POST":
        _scope(SCOPE_LINEITEM)
        item = _book().create_line_item(request.get_json(force=True, silent=True) or {})
        return _json(item, MEDIA_LINEITEM, 201)
    _scope(SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
    items = _book().line_items(
        resource_link_id=request.args.get("resource_link_id"),
        resource_id=request.args.get("resource_id"),
        tag=request.args.get("tag"),
    )
    return _json(items, MEDIA_LINEITEMS)


@bp.get("/lineitems/<item_id>")
def lineitem(item_id: str) -> Response:
    _scope(SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
    return _json(_book().line_item(item_id), MEDIA_LINEITEM)


@bp.post("/lineitems/<item_id>/scores")
def scores(item_id: str) -> Response:
    """Publish a score (409 when not strictly newer than the one held, as Moodle does)."""
    _scope(SCOPE_SCORE)
    _book().post_score(item_id, request.get_json(force=True, silent=True))
    return Response(status=204)


@bp.get("/lineitems/<item_id>/results")
def results(item_id: str) -> Response:
    _scope(SCOPE_RESULT_READONLY)
    book = _book()
    item = book.line_item(item_id)
    body = []
    for user_id, score in book.scores(item_id).items():
        if request.args.get("user_id") not in (None, user_id):
            continue
        body.append(
            {
                "id": f"{item['id']}/results/{user_id}",
                "scoreOf": item["id"],
                "userId": user_id,
                "resultScore": score.get("scoreGiven"),
                "resultMaximum": score.get("scoreMaximum"),
                "comment": score.get("comment"),
            }
        )
    return _json(body, MEDIA_RESULTS)


@bp.get("/memberships")
def memberships() -> Response:
    """NRPS 2.0: the demo cast as the course's members."""
    _scope(NRPS_SCOPE)
    urls = _urls()
    role = request.args.get("role")
    members = [
        {
            "user_id": m.sub,
            "status": "Active",
            "name": m.name,
            "given_name": m.given_name,
            "family_name": m.family_name,
            "email": m.email,
            "roles": [m.role],
        }
        for m in cast.CAST
        if role is None or m.role.endswith("#" + role) or m.role == role
    ]
    body = {
        "id": urls.memberships,
        "context": {"id": cast.COURSE_ID, "label": cast.COURSE_LABEL, "title": cast.COURSE_TITLE},
        "members": members,
    }
    return _json(body, MEDIA_MEMBERSHIP)
