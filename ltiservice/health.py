"""Health endpoint for load balancers and the container healthcheck."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from ltiservice import db

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> tuple[Response, int]:
    """200 when the database answers; 503 otherwise."""
    try:
        db.session().execute(text("SELECT 1"))
    except Exception:
        return jsonify({"status": "unavailable", "database": "down"}), 503
    return jsonify({"status": "ok", "database": "up"}), 200
