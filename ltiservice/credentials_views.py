"""Public credential endpoints: the issuer Profile and the revocation status list."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify
from sqlalchemy import select

from ltiservice import credentials, db
from ltiservice.models import Organisation

bp = Blueprint("credentials", __name__, url_prefix="/credentials")


def _organisation(slug: str) -> Organisation:
    found = db.session().scalar(select(Organisation).where(Organisation.slug == slug))
    if found is None:
        abort(404)
    return found


@bp.get("/issuers/<slug>")
def issuer(slug: str) -> Response:
    """The organisation as an OB 3.0 issuer Profile, with the keys that verify its tokens."""
    organisation = _organisation(slug)
    response = jsonify(
        {
            "@context": [
                "https://www.w3.org/ns/credentials/v2",
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            ],
            "id": credentials.issuer_url(organisation),
            "type": ["Profile"],
            "name": organisation.name,
            "url": current_app.config["SETTINGS"].base_url,
            # The tool's current and previous public keys (the same as /lti/jwks).
            "publicKeys": current_app.extensions["lti_keyring"].jwks()["keys"],
        }
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/status/<slug>")
def status(slug: str) -> Response:
    """The signed BitstringStatusListCredential (JWT) of the organisation's credentials."""
    token = credentials.status_list_token(db.session(), _organisation(slug))
    response = Response(token, mimetype="application/vc+jwt")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-cache"
    return response
