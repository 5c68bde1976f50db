"""Demo pages and the demo platform's browser-facing endpoints (OIDC auth, JWKS, deep-link
return). Registered only when `demo_enabled` is set (see `ltiservice.demo.init_app`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response

from ltiservice import db
from ltiservice.demo import cast, trust
from ltiservice.demo.bootstrap import ensure_demo, find_demo_platform
from ltiservice.demo.gradebook import Gradebook
from ltiservice.demo.platform import (
    DEEP_LINKING,
    RESOURCE_LINK,
    DemoUrls,
    build_id_token,
    check_auth_request,
    login_initiation,
    platform_key,
)
from ltiservice.errors import NotFoundError
from ltiservice.lti import adapter
from ltiservice.lti.keys import ToolKey

bp = Blueprint("demo", __name__, url_prefix="/demo")


def urls() -> DemoUrls:
    return DemoUrls(adapter.settings().base_url)


def gradebook() -> Gradebook:
    return Gradebook(adapter.store(), urls())


def demo_key() -> ToolKey:
    key = current_app.extensions.get("demo_key")
    if key is None:
        key = platform_key(adapter.settings().instance_path)
        current_app.extensions["demo_key"] = key
    return key  # type: ignore[no-any-return]


def _person(key: str | None, *, trainer: bool | None = None) -> cast.CastMember:
    person = cast.member(key or "")
    if person is None or (trainer is not None and person.is_trainer != trainer):
        raise NotFoundError("Cette personne ne fait pas partie de la démonstration.")
    return person


@bp.get("/")
def home() -> str:
    """The demo's front door: who is who, and a button to enter as each of them."""
    if find_demo_platform(db.session(), urls()) is None:
        ensure_demo(db.session(), urls(), gradebook(), current_app.extensions["plugins"])
    return render_template(
        "demo/home.html",
        cast=cast,
        activities=gradebook().activities(),
        learners=_learners(),
        trainers=_trainers(),
    )


@bp.get("/enter")
def enter() -> Response:
    """Open an activity as a cast member: the tool's real third-party initiated login."""
    person = _person(request.args.get("person"))
    activity = gradebook().activity(request.args.get("activity", ""))
    if activity is None:
        raise NotFoundError("Cette activité n'existe pas dans le cours de démonstration.")
    target = login_initiation(
        adapter.store(), urls(), person, message_type=RESOURCE_LINK, resource_link=activity
    )
    return redirect(target, code=303)


@bp.get("/place")
def place() -> Response:
    """A trainer adds an activity to the demo course: a deep-linking launch."""
    person = _person(request.args.get("person", cast.PLACER), trainer=True)
    target = login_initiation(adapter.store(), urls(), person, message_type=DEEP_LINKING)
    return redirect(target, code=303)


@bp.route("/auth", methods=["GET", "POST"])
def auth() -> str:
    """The platform's OIDC authorization endpoint: checks the tool's request, then posts
    the signed id_token to the tool's redirect_uri."""
    params = {k: v for k, v in request.values.items()}
    intent = check_auth_request(adapter.store(), urls(), params)
    link = intent.get("resource_link") or {}
    data = (
        trust.new_deep_link_data(adapter.store())
        if intent["message_type"] == DEEP_LINKING
        else None
    )
    token = build_id_token(
        demo_key(),
        urls(),
        intent,
        params["nonce"],
        lineitem_url=link.get("lineitem"),
        deep_link_data=data,
    )
    return render_template(
        "demo/auth_post.html",
        action=params["redirect_uri"],
        id_token=token,
        state=params["state"],
    )


@bp.get("/jwks")
def jwks() -> Response:
    """The demo platform's public key, fetched by the tool over HTTP like any platform's."""
    response = jsonify({"keys": [demo_key().public_jwk()]})
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.post("/deep-link-return")
def deep_link_return() -> tuple[str, int] | str:
    """The tool's LtiDeepLinkingResponse: verify it, then place the activity in the course."""
    token = request.form.get("JWT", "")
    links = trust.check_deep_link_response(adapter.store(), adapter.keyring(), token, urls().issuer)
    placed = [_place(link) for link in links[:1]]
    return render_template(
        "demo/placed.html", activities=placed, cast=cast, learners=_learners(), trainers=_trainers()
    )


def _place(link: dict[str, Any]) -> dict[str, Any]:
    title = str(link.get("title") or "Activité sans titre")
    raw = link.get("custom")
    custom: dict[str, Any] = raw if isinstance(raw, dict) else {}
    line_item = link.get("lineItem") if isinstance(link.get("lineItem"), dict) else None
    if line_item is not None:
        line_item = {"label": title, **line_item}
    return gradebook().add_activity(title, {str(k): str(v) for k, v in custom.items()}, line_item)


def _learners() -> list[cast.CastMember]:
    return [m for m in cast.CAST if not m.is_trainer]


def _trainers() -> list[cast.CastMember]:
    return [m for m in cast.CAST if m.is_trainer]


@bp.get("/gradebook")
def gradebook_page() -> str:
    """The demo course's gradebook: the scores the tool sent through AGS."""
    book = gradebook()
    columns = []
    for activity in book.activities():
        if not activity.get("lineitem"):
            continue
        item_id = activity["lineitem"].rsplit("/", 1)[-1]
        item = book.line_item(item_id)
        scores = book.scores(item_id)
        rows = [(m, scores.get(m.sub)) for m in _learners()]
        columns.append({"activity": activity, "item": item, "rows": rows})
    return render_template("demo/gradebook.html", columns=columns)
