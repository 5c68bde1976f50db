"""The installed referentials as CASE v1.1 over its REST binding (``/ims/case/v1p1/…``).

Read-only and public, like the referentials themselves: ``CFDocuments`` (all, or one),
``CFPackages/{id}``, ``CFItems/{id}``, ``CFAssociations/{id}``. Single items and associations
carry ``CFDocumentURI`` as the REST binding asks; unknown identifiers answer 404 with an
``imsx_StatusInfo`` body.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from ltiservice.grading.case import CASE_PREFIX, CasePackage, load_case_packages

bp = Blueprint("case", __name__, url_prefix=CASE_PREFIX)


def _packages() -> dict[str, CasePackage]:
    cached = current_app.extensions.get("case_packages")
    if cached is None:
        base_url = current_app.config["SETTINGS"].base_url
        cached = load_case_packages(current_app.extensions["plugins"], base_url)
        current_app.extensions["case_packages"] = cached
    return cached  # type: ignore[no-any-return]


def _json(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _unknown(identifier: str) -> Response:
    return _json(
        {
            "imsx_codeMajor": "failure",
            "imsx_severity": "error",
            "imsx_description": f"Unknown Object: {identifier}",
            "imsx_codeMinor": {
                "imsx_codeMinorField": [
                    {
                        "imsx_codeMinorFieldName": "sourcedId",
                        "imsx_codeMinorFieldValue": "unknownobject",
                    }
                ]
            },
        },
        404,
    )


@bp.get("/CFDocuments")
def documents() -> Response:
    return _json({"CFDocuments": [p.document() for p in _packages().values()]})


@bp.get("/CFDocuments/<identifier>")
def document(identifier: str) -> Response:
    package = _packages().get(identifier)
    return _json(package.document()) if package else _unknown(identifier)


@bp.get("/CFPackages/<identifier>")
def package(identifier: str) -> Response:
    found = _packages().get(identifier)
    return _json(found.package) if found else _unknown(identifier)


@bp.get("/CFItems/<identifier>")
def item(identifier: str) -> Response:
    for found in _packages().values():
        items = found.items()
        if identifier in items:
            return _json({**items[identifier], "CFDocumentURI": found.document_link()})
    return _unknown(identifier)


@bp.get("/CFAssociations/<identifier>")
def association(identifier: str) -> Response:
    for found in _packages().values():
        associations = found.associations()
        if identifier in associations:
            return _json({**associations[identifier], "CFDocumentURI": found.document_link()})
    return _unknown(identifier)
