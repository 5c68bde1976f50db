"""Trainers place an assessment: from the LMS's deep-linking picker, or in place."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from ltiservice import db
from ltiservice.assessments.display import rule_label
from ltiservice.assessments.placement import (
    FILE_TYPES,
    create_assessment,
    paris_today,
    parse_placement,
)
from ltiservice.assessments.routing import (
    PreviousContent,
    assessment_on_link,
    used_in_course,
)
from ltiservice.errors import ServiceError
from ltiservice.grades import DEFAULT_GRADE_MAPPING, GRADE_MAPPINGS
from ltiservice.grading.registration import RegistrationStatus, registration_status
from ltiservice.lti import deep_linking
from ltiservice.lti.context import check_csrf, current_launch, require_trainer, update_launch
from ltiservice.lti.roles import Role

bp = Blueprint("placement", __name__, url_prefix="/placement")

AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"


def _plugins() -> dict[str, Any]:
    return current_app.extensions["plugins"]  # type: ignore[no-any-return]


def _upload_limit_mb() -> int:
    return int(current_app.config["SETTINGS"].max_upload_mb)


def _expired_registrations() -> dict[str, RegistrationStatus]:
    """Certification code -> its status, for the certifications whose registration ended."""
    today = paris_today()
    statuses = {code: registration_status(p.current, today) for code, p in _plugins().items()}
    return {code: status for code, status in statuses.items() if status.expired}


def _form_data() -> dict[str, Any]:
    form: dict[str, Any] = request.form.to_dict()
    form["allowed_extensions"] = request.form.getlist("allowed_extensions")
    for name in ("launch", "csrf_token"):
        form.pop(name, None)
    return form


def _page(
    template: str,
    context: Any,
    error: ServiceError | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
    in_use: list[PreviousContent] | None = None,
) -> tuple[str, int]:
    return render_template(
        template,
        context=context,
        in_use=in_use,
        plugins=_plugins(),
        rule_label=rule_label,
        file_types=FILE_TYPES,
        grade_mappings=GRADE_MAPPINGS,
        expired=_expired_registrations(),
        max_file_mb=_upload_limit_mb(),
        error=error,
        values=values
        or {
            "allowed_extensions": [".pdf", ".docx", ".odt"],
            "grade_mapping": DEFAULT_GRADE_MAPPING,
        },
    ), status


@bp.route("/picker", methods=["GET", "POST"])
def picker() -> Any:
    """Deep linking: choose certification ▸ block ▸ case ▸ rules, then return to the LMS."""
    context = current_launch(request.values.get("launch"))
    require_trainer(context)
    body = deep_linking.launch_body(context.launch_id)
    deep_linking.deep_link_settings(body)
    in_use = _work_on_this_link(context)
    if request.method == "GET":
        return _page("placement/picker.html", context, in_use=in_use)
    check_csrf(context, request.form.get("csrf_token"))
    form = _form_data()
    try:
        choice = parse_placement(
            form, _plugins(), _upload_limit_mb(), may_confirm=context.has(Role.ADMINISTRATOR)
        )
    except ServiceError as exc:
        return _page("placement/picker.html", context, exc, form, 400, in_use)
    assessment = create_assessment(db.session(), context, choice, _plugins())
    return_url, token = deep_linking.build_response(
        body,
        title=assessment.title,
        custom={"ltiservice_resource_id": assessment.resource_id},
        score_maximum=assessment.score_maximum,
        resource_id=assessment.resource_id,
        tag=_tag(assessment),
    )
    db.session().commit()
    return render_template(
        "placement/return.html", return_url=return_url, token=token, assessment=assessment
    )


def _tag(assessment: Any) -> str:
    """The line item's tag: certification and block, and the épreuve when there is one."""
    tag = f"ltiservice:{assessment.certification_code}:{assessment.block_code}"
    return f"{tag}:{assessment.epreuve_code}" if assessment.epreuve_code else tag


def _work_on_this_link(context: Any) -> list[PreviousContent]:
    """The course's activities that already hold work. A deep linking request does not say
    which activity it chooses content for (Moodle's « Select content » on an activity in use,
    Open edX's block): the picker shows them all, with what re-selecting would mean."""
    return used_in_course(db.session(), context)


def _placed_on_this_link(context: Any) -> int | None:
    found = assessment_on_link(db.session(), context)
    if found is None:
        return None
    update_launch(context, assessment_id=found.id)
    return found.id


@bp.route("/configure", methods=["GET", "POST"])
def configure() -> Any:
    """A resource link the LMS created without deep linking: configure it in place."""
    context = current_launch(request.values.get("launch"))
    require_trainer(context)
    placed = _placed_on_this_link(context)
    if placed is not None:
        # Configured meanwhile (another tab, another trainer): one link, one assessment.
        return redirect(
            url_for("evaluations.dashboard", assessment_id=placed, launch=context.launch_id),
            code=303,
        )
    if request.method == "GET":
        return _page("placement/configure.html", context)
    check_csrf(context, request.form.get("csrf_token"))
    form = _form_data()
    try:
        choice = parse_placement(
            form, _plugins(), _upload_limit_mb(), may_confirm=context.has(Role.ADMINISTRATOR)
        )
    except ServiceError as exc:
        return _page("placement/configure.html", context, exc, form, 400)
    body = deep_linking.launch_body(context.launch_id)
    endpoint = body.get(AGS_ENDPOINT) or {}
    assessment = create_assessment(
        db.session(),
        context,
        choice,
        _plugins(),
        resource_link_id=context.resource_link_id,
        lineitem_url=endpoint.get("lineitem"),
        lineitems_url=endpoint.get("lineitems"),
    )
    db.session().commit()
    update_launch(context, assessment_id=assessment.id)
    return redirect(
        url_for("evaluations.dashboard", assessment_id=assessment.id, launch=context.launch_id),
        code=303,
    )
