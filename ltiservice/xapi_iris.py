"""Every xAPI IRI we mint dereferences: the profile, its concepts, and each activity.

Mounted at the path of the xAPI IRI base (``Settings.xapi_base``, ``/xapi`` by default), so
``<base>/profile`` answers the profile (JSON-LD, or a French page for a browser) and
``<base>/certifications/CRCA/blocks/B1`` answers an xAPI Activity Definition. When the base is
another host (the organisation's or the branch's domain), that host routes the path here.

Activity definitions carry what an LRS or a consumer needs to make sense of an IRI: the French
name, the type, a description, and for certifications, blocks and competencies the per-version
IRIs of profile 1.0 (``version-iris``) and, for an older version's block, the current blocks it
counts as (``counts-as``). Nothing personal is served: no learner, no case statement.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, render_template, request
from sqlalchemy import select

from ltiservice import db
from ltiservice.grading.interface import CertificationPlugin
from ltiservice.grading.referential import Block, Referential
from ltiservice.models import Assessment, Course
from ltiservice.statements import vocabulary
from xapi.profile_document import build_profile
from xapi.vocabulary import (
    LANGUAGE,
    LEGACY_BASE,
    ActivityType,
    Extension,
    OurActivityType,
    Vocabulary,
    rncp_iri,
)

bp = Blueprint("xapi_iris", __name__)

JSON_LD = "application/ld+json"
_LEGACY = Vocabulary(LEGACY_BASE)


def init_app(app: Flask) -> None:
    """Mount the IRIs at the path of the configured xAPI IRI base."""
    prefix = urlsplit(app.config["SETTINGS"].xapi_base).path.rstrip("/")
    app.register_blueprint(bp, url_prefix=prefix or None)


def _json(document: dict[str, Any], mimetype: str = "application/json") -> Response:
    response = jsonify(document)
    response.mimetype = mimetype
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"  # public vocabulary, no credentials
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _profile_response(document: dict[str, Any]) -> Response | str:
    wanted = request.accept_mimetypes.best_match([JSON_LD, "application/json", "text/html"])
    if wanted == "text/html":
        return render_template("xapi/profile.html", profile=document, vocab=vocabulary())
    return _json(document, JSON_LD if wanted != "application/json" else "application/json")


@bp.get("/profile")
@bp.get("/profile/<version>")
def profile(version: str | None = None) -> Response | str:
    """The profile at its IRI and at its version IRI (content negotiation)."""
    document = build_profile(vocabulary())
    if version is not None and f"{document['id']}/{version}" not in {
        v["id"] for v in document["versions"]
    }:
        abort(404)
    return _profile_response(document)


@bp.get("/profile/templates/<kind>/<version>")
def template(kind: str, version: str) -> Response:
    """One statement template of the profile."""
    return _part(vocabulary().profile + f"/templates/{kind}/{version}", "templates")


@bp.get("/verbs/<name>")
def verb(name: str) -> Response:
    """A verb of the profile (``achieved``)."""
    return _part(vocabulary().verb(name), "concepts")


@bp.get("/activity-types/<name>")
def activity_type(name: str) -> Response:
    """An activity type of the profile."""
    return _part(vocabulary().activity_type(name), "concepts")


@bp.get("/extensions/<name>")
def extension(name: str) -> Response:
    """An extension of the profile, with its JSON Schema."""
    return _part(vocabulary().extension(name), "concepts")


def _part(iri: str, section: str) -> Response:
    document = build_profile(vocabulary())
    for item in document[section]:
        if item["id"] == iri:
            return _json({"@context": document["@context"], **item}, JSON_LD)
    abort(404)


def _definition(
    type_iri: str,
    name: str,
    description: str | None = None,
    more_info: str | None = None,
    extensions: dict[str, Any] | None = None,
) -> Response:
    """An xAPI Activity Definition object (xAPI 1.0.3 §2.4.4.1)."""
    definition: dict[str, Any] = {"type": type_iri, "name": {LANGUAGE: name}}
    if description:
        definition["description"] = {LANGUAGE: description}
    if more_info:
        definition["moreInfo"] = more_info
    if extensions:
        definition["extensions"] = extensions
    return _json(definition)


def _plugin(code: str) -> CertificationPlugin:
    plugin = current_app.extensions["plugins"].get(code)
    if plugin is None:
        abort(404)
    return plugin  # type: ignore[no-any-return]


def _versions(plugin: CertificationPlugin) -> list[Referential]:
    """Every version, the current one first, then the others newest first."""
    others = [
        r for v, r in sorted(plugin.referentials.items(), reverse=True) if r is not plugin.current
    ]
    return [plugin.current, *others]


@bp.get("/certifications/<code>")
def certification(code: str) -> Response:
    plugin = _plugin(code)
    vocab = vocabulary()
    versions = _versions(plugin)
    current = plugin.current.certification
    legacy = [
        rncp_iri(r.certification.rncp_code)
        if r.certification.rncp_code
        else _LEGACY.certification(code)
        for r in versions
    ]
    codes = ", ".join(r.certification.rncp_code or r.version for r in versions)
    return _definition(
        vocab.activity_type(OurActivityType.CERTIFICATION),
        current.title,
        f"Certification {code} ({codes}), toutes versions du référentiel.",
        rncp_iri(current.rncp_code) if current.rncp_code else None,
        {vocab.extension(Extension.VERSION_IRIS): list(dict.fromkeys(legacy))},
    )


def _block_versions(
    plugin: CertificationPlugin, block_code: str
) -> list[tuple[Referential, Block]]:
    found = []
    for referential in _versions(plugin):
        try:
            found.append((referential, referential.block(block_code)))
        except KeyError:
            continue
    if not found:
        abort(404)
    return found


@bp.get("/certifications/<code>/blocks/<block_code>")
def block(code: str, block_code: str) -> Response:
    plugin = _plugin(code)
    vocab = vocabulary()
    found = _block_versions(plugin, block_code)
    referential, latest = found[0]
    rncp = f" ({latest.rncp_block_code})" if latest.rncp_block_code else ""
    extensions: dict[str, Any] = {
        vocab.extension(Extension.VERSION_IRIS): [
            _LEGACY.versioned_block(code, r.version, block_code) for r, _ in found
        ]
    }
    if referential is not plugin.current:
        equivalents = plugin.translate_blocks(referential.version, {block_code})
        extensions[vocab.extension(Extension.COUNTS_AS)] = [
            vocab.block(code, other) for other in sorted(equivalents)
        ]
    return _definition(
        vocab.activity_type(OurActivityType.BLOCK),
        latest.title or latest.code,
        f"Bloc de compétences {block_code}{rncp} de la certification "
        f"{referential.certification.title}.",
        None,
        extensions,
    )


@bp.get("/certifications/<code>/competencies/<competency_code>")
def competency(code: str, competency_code: str) -> Response:
    plugin = _plugin(code)
    vocab = vocabulary()
    found = []
    for referential in _versions(plugin):
        try:
            found.append((referential, referential.competency(competency_code)))
        except KeyError:
            continue
    if not found:
        abort(404)
    referential, latest = found[0]
    owner = referential.block_of_competency(competency_code)
    return _definition(
        vocab.activity_type(OurActivityType.COMPETENCY),
        latest.wording,
        f"Compétence {competency_code} du bloc {owner.code} de la certification {code}.",
        None,
        {
            vocab.extension(Extension.VERSION_IRIS): [
                _LEGACY.versioned_competency(code, r.version, competency_code) for r, _ in found
            ]
        },
    )


@bp.get("/certifications/<code>/cases/<case_id>")
def case(code: str, case_id: str) -> Response:
    """A plugin's case: its title only (the subject itself is for enrolled learners)."""
    plugin = _plugin(code)
    for referential in _versions(plugin):
        for item in referential.cases:
            if item.id == case_id:
                return _definition(
                    vocabulary().activity_type(OurActivityType.CASE),
                    item.title,
                    f"Cas pratique du bloc {item.block} de la certification {code}.",
                )
    abort(404)


def _assessment(resource_id: str) -> Assessment:
    found = db.session().scalar(select(Assessment).where(Assessment.resource_id == resource_id))
    if found is None:
        abort(404)
    return found


@bp.get("/assessments/<resource_id>")
def assessment(resource_id: str) -> Response:
    row = _assessment(resource_id)
    return _definition(
        ActivityType.ASSESSMENT,
        row.title,
        f"Évaluation du bloc {row.block_code} de la certification {row.certification_code}.",
        None,
        {
            vocabulary().extension(Extension.CERTIFICATION_CODE): row.certification_code,
            vocabulary().extension(Extension.BLOCK_CODE): row.block_code,
        },
    )


@bp.get("/assessments/<resource_id>/case")
def own_case(resource_id: str) -> Response:
    """A case the trainer wrote for this assessment: its title only."""
    row = _assessment(resource_id)
    title = (row.custom_case or {}).get("title") or row.title
    return _definition(vocabulary().activity_type(OurActivityType.CASE), title)


@bp.get("/courses/<course_id>")
def course(course_id: str) -> Response:
    if not course_id.isdigit():
        abort(404)
    row = db.session().get(Course, int(course_id))
    if row is None:
        abort(404)
    return _definition(ActivityType.COURSE, row.title or row.label or row.context_id)
