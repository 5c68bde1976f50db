"""Landing after a launch: routes each LTI message to the page that serves it."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ltiservice.lti.context import current_launch

bp = Blueprint("web", __name__)


@bp.get("/")
def index() -> str:
    """What a person opening the service's address directly sees."""
    return render_template("index.html")


@bp.get("/start")
def after_launch() -> str:
    context = current_launch(request.args.get("launch"))
    return render_template("launched.html", context=context)
