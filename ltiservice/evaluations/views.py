"""Trainers' pages: dashboard, grading page, evaluation autosave and signature, jury decision.

Every route loads the launch, refuses anyone but the course's trainers, loads the assessment
and submission through `ltiservice.assessments.access`, and checks the CSRF token of every
state-changing request (form field `csrf_token`, or header `X-CSRF-Token` for JSON).
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from ltiservice import db, grades
from ltiservice.assessments import display
from ltiservice.assessments.access import assessment_for, course_submission
from ltiservice.assessments.placement import paris_today
from ltiservice.certification.standing import standing_of
from ltiservice.evaluations import decisions, forms, roster, service
from ltiservice.evaluations.rubric import VERDICT_LABELS, Rubric, first_missing, rubric_for
from ltiservice.grading.registration import RegistrationStatus, registration_status
from ltiservice.lti.context import LaunchContext, check_csrf, current_launch, require_trainer
from ltiservice.lti.roles import Role
from ltiservice.models import Assessment, Evaluation, Person, Submission

bp = Blueprint("evaluations", __name__, url_prefix="/a")


def _launch() -> LaunchContext:
    context = current_launch(request.args.get("launch") or request.form.get("launch"))
    require_trainer(context)
    if request.method == "POST":
        token = request.headers.get("X-CSRF-Token") if request.is_json else None
        check_csrf(context, token or request.form.get("csrf_token"))
    return context


def _load(
    session: Session, context: LaunchContext, assessment_id: int, submission_id: int
) -> tuple[Assessment, Submission, Rubric]:
    assessment = assessment_for(session, context, assessment_id)
    submission = course_submission(session, context, assessment, submission_id)
    return assessment, submission, rubric_for(assessment)


def _expired_registration(assessment: Assessment) -> RegistrationStatus | None:
    """The registration of the assessment's referential version, when it has ended."""
    status = registration_status(rubric_for(assessment).referential, paris_today())
    return status if status.expired else None


def _confirmed_by(session: Session, assessment: Assessment) -> str | None:
    if assessment.expired_registration_confirmed_by_id is None:
        return None
    person = session.get(Person, assessment.expired_registration_confirmed_by_id)
    return (person.name or person.sub) if person else None


@bp.get("/<int:assessment_id>/dashboard")
def dashboard(assessment_id: int) -> str:
    """The course's learners and where each one's work stands, filterable by state."""
    context = _launch()
    session = db.session()
    assessment = assessment_for(session, context, assessment_id)
    board = roster.build_dashboard(session, assessment)
    state = request.args.get("etat", "")
    rows = [row for row in board.rows if row.state == state] if state in roster.STATES else None
    return render_template(
        "evaluations/dashboard.html",
        context=context,
        assessment=assessment,
        board=board,
        rows=board.rows if rows is None else rows,
        state=state if rows is not None else "",
        states=roster.STATES,
        epreuve=display.epreuve_of(
            current_app.extensions["plugins"].get(assessment.certification_code), assessment
        ),
        failed_scores=grades.failed_scores(session, assessment),
        is_administrator=context.has(Role.ADMINISTRATOR),
        grade_mapping=grades.GRADE_MAPPINGS.get(assessment.grade_mapping, ""),
        expired_registration=_expired_registration(assessment),
        confirmed_by=_confirmed_by(session, assessment),
    )


def _grade_page(
    context: LaunchContext,
    assessment: Assessment,
    submission: Submission,
    rubric: Rubric,
    errors: list[str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    session = db.session()
    evaluation = service.evaluation_of(session, submission, context.person_id)
    verdicts = service.verdicts_of(evaluation)
    page = render_template(
        "evaluations/grade.html",
        context=context,
        assessment=assessment,
        submission=submission,
        rubric=rubric,
        evaluation=evaluation,
        entries=(evaluation.verdicts if evaluation else {}) or {},
        outcome=rubric.page_outcome(verdicts),  # type: ignore[arg-type]
        first_missing=first_missing(rubric.block, verdicts),
        verdict_labels=VERDICT_LABELS,
        session_slots=max(3, rubric.jury.min_sessions or 0),
        errors=errors or [],
        missing=rubric.missing(verdicts) if errors else [],
    )
    return page, status


@bp.get("/<int:assessment_id>/submissions/<int:submission_id>/grade")
def grade(assessment_id: int, submission_id: int) -> tuple[str, int]:
    """The submission beside the block's rubric; opening it starts the evaluation."""
    context = _launch()
    with db.transaction() as session:
        assessment, submission, rubric = _load(session, context, assessment_id, submission_id)
        service.open_for_grading(session, submission)
    return _grade_page(context, assessment, submission, rubric)


def _save(context: LaunchContext, submission: Submission, rubric: Rubric) -> Evaluation:
    data = (
        forms.from_json(request.get_json(silent=True))
        if request.is_json
        else forms.from_form(request.form, rubric.criterion_ids)
    )
    if not request.is_json and request.form.get("all_met"):
        data = forms.all_met(data, rubric.block, request.form["all_met"])
    session = db.session()
    evaluation = service.draft_of(session, submission, context.person_id)
    service.save_evaluation(session, rubric, evaluation, data)
    return evaluation


@bp.post("/<int:assessment_id>/submissions/<int:submission_id>/evaluation")
def save_evaluation(assessment_id: int, submission_id: int) -> Response:
    """Autosave (JSON in, recomputed outcome out) or the no-script save button."""
    context = _launch()
    with db.transaction() as session:
        assessment, submission, rubric = _load(session, context, assessment_id, submission_id)
        evaluation = _save(context, submission, rubric)
    outcome = rubric.page_outcome(service.verdicts_of(evaluation))  # type: ignore[arg-type]
    if request.is_json:
        return jsonify(
            {
                "saved_at": evaluation.updated_at.isoformat(timespec="seconds"),
                "status": evaluation.status,
                "outcome": outcome,
                "missing": rubric.missing(service.verdicts_of(evaluation)),
            }
        )
    done = request.form.get("all_met")
    flash(
        (f"Tous les critères de {done} sont acquis. " if done else "Évaluation enregistrée. ")
        + f"{outcome['summary']}.",
        "info",
    )
    return redirect(_grade_url(context, assessment, submission), code=303)


@bp.post("/<int:assessment_id>/submissions/<int:submission_id>/evaluation/sign")
def sign_evaluation(assessment_id: int, submission_id: int) -> Any:
    """Save what the form holds, then sign it, or show what is missing."""
    context = _launch()
    with db.transaction() as session:
        assessment, submission, rubric = _load(session, context, assessment_id, submission_id)
        evaluation = (
            _save(context, submission, rubric)
            if request.form or request.is_json
            else service.draft_of(session, submission, context.person_id)
        )
    problems = service.signing_problems(rubric, evaluation)
    if problems and evaluation.status != "signed":
        return _grade_page(context, assessment, submission, rubric, problems, 422)
    with db.transaction() as session:
        service.sign_evaluation(session, rubric, evaluation)
    flash("Évaluation signée : elle ne peut plus être modifiée.", "info")
    return redirect(_grade_url(context, assessment, submission), code=303)


def _grade_url(context: LaunchContext, assessment: Assessment, submission: Submission) -> str:
    return url_for(
        "evaluations.grade",
        assessment_id=assessment.id,
        submission_id=submission.id,
        launch=context.launch_id,
    )


def _decision_input() -> decisions.DecisionInput:
    resolved = {
        key.removeprefix("resolved-"): value
        for key, value in request.form.items()
        if key.startswith("resolved-") and value
    }
    expected = request.form.get("expected_decision", "")
    return decisions.DecisionInput(
        resolved=resolved,
        resolution=request.form.get("resolution", ""),
        correction_reason=request.form.get("correction_reason", ""),
        expected_current_id=int(expected) if expected.isdigit() else None,
    )


@bp.route("/<int:assessment_id>/submissions/<int:submission_id>/decision", methods=["GET", "POST"])
def decision(assessment_id: int, submission_id: int) -> Any:
    """The signed evaluations side by side, the jury's problems, and the signature."""
    context = _launch()
    session = db.session()
    assessment, submission, rubric = _load(session, context, assessment_id, submission_id)
    data = _decision_input() if request.method == "POST" else decisions.DecisionInput()
    errors: list[str] = []
    if request.method == "POST":
        jury = decisions.jury_of(session, rubric, submission)
        standing = decisions.standing_decision(session, submission)
        errors = decisions.decision_problems(rubric, jury, standing, data)
        if not errors:
            with db.transaction() as session:
                signed = decisions.sign_decision(
                    session, rubric, submission, context.person_id, data
                )
            flash(f"Décision signée : {signed.decision.comment}.", "info")
            return redirect(
                url_for(
                    "evaluations.decision",
                    assessment_id=assessment.id,
                    submission_id=submission.id,
                    launch=context.launch_id,
                ),
                code=303,
            )
    return _decision_page(context, assessment, submission, rubric, data, errors)


def _decision_page(
    context: LaunchContext,
    assessment: Assessment,
    submission: Submission,
    rubric: Rubric,
    data: decisions.DecisionInput,
    errors: list[str],
) -> tuple[str, int]:
    session = db.session()
    jury = decisions.jury_of(session, rubric, submission)
    standing = decisions.standing_decision(session, submission)
    status = standing_of(
        session,
        rubric.plugin,
        assessment.organisation_id,
        submission.person_id,
        assessment.referential_version,
    )
    page = render_template(
        "evaluations/decision.html",
        context=context,
        assessment=assessment,
        submission=submission,
        rubric=rubric,
        jury=jury,
        standing=standing,
        history=decisions.decision_history(session, submission),
        data=data,
        errors=errors,
        certification=status,
        verdict_labels=VERDICT_LABELS,
    )
    return page, 422 if errors else 200
