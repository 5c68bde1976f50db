"""Learner pages: the case, the submission form, receipts, results and « mon parcours ».

Every request names its launch (`?launch=` or a hidden `launch` field); the assessment and
any submission are loaded only through `access`; every state change checks the CSRF token.
Forms work without JavaScript; `submission.js` adds autosave on top.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ltiservice import credentials, db
from ltiservice.assessments import (
    access,
    display,
    files,
    limits,
    next_steps,
    path,
    results,
    submissions,
)
from ltiservice.certification.standing import standing_of
from ltiservice.errors import AuthorisationError, NotFoundError, ServiceError, render_error
from ltiservice.evaluations import ledger
from ltiservice.grading.interface import CertificationPlugin
from ltiservice.lti.context import LaunchContext, check_csrf, current_launch
from ltiservice.models import Assessment, Person, SubmissionFile

bp = Blueprint("assessments", __name__, url_prefix="/a")


@dataclass(frozen=True)
class Request:
    """What every learner view starts from."""

    db: Session
    context: LaunchContext
    assessment: Assessment
    plugin: CertificationPlugin


def _json_object() -> dict[str, Any] | None:
    """The JSON body if it is an object; None for anything else (list, string, garbage)."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def _launch_id() -> str | None:
    if request.is_json:
        launch = (_json_object() or {}).get("launch")
        return request.args.get("launch") or (launch if isinstance(launch, str) else None)
    return request.values.get("launch")


def _open(
    assessment_id: int,
    *,
    learner: bool = True,
    change: bool = False,
    fields: dict[str, str] | None = None,
) -> Request:
    """The launch, its CSRF check and the assessment; ``fields`` stands in for a form the
    request could not parse (a send over the size cap)."""
    if fields is None:
        launch_id, token = _launch_id(), None
    else:
        launch_id, token = (
            request.args.get("launch") or fields.get("launch"),
            fields.get("csrf_token"),
        )
    context = current_launch(launch_id)
    if learner and context.is_trainer:
        raise AuthorisationError(
            "Cette page est celle des apprenants : les formateurs suivent les travaux depuis "
            "le tableau de bord de l'évaluation.",
            code="learner_only",
        )
    if change:
        if fields is None:
            token = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")
        check_csrf(context, token)
    session = db.session()
    assessment = access.assessment_for(session, context, assessment_id)
    plugin = current_app.extensions["plugins"].get(assessment.certification_code)
    if plugin is None:
        raise NotFoundError("La certification de cette évaluation n'est plus disponible.")
    return Request(session, context, assessment, plugin)


def _me(req: Request) -> Person:
    person = req.db.get(Person, req.context.person_id)
    if person is None:
        raise AuthorisationError("Relancez l'activité depuis votre plateforme de formation.")
    return person


def _back(req: Request, anchor: str = "") -> ResponseReturnValue:
    url = url_for("assessments.case_page", assessment_id=req.assessment.id, launch=_lid(req))
    return redirect(url + anchor, code=303)


def _lid(req: Request) -> str:
    return req.context.launch_id


def _upload_dir() -> str:
    return str(current_app.config["SETTINGS"].upload_dir)


@bp.get("/<int:assessment_id>")
def case_page(assessment_id: int) -> str:
    """The case, the criteria, the deadline, the submission form (or receipt, or results)."""
    return _case_page(_open(assessment_id, learner=False))


def _case_page(req: Request, refused: tuple[str, ...] | None = None) -> str:
    assessment = req.assessment
    settings = current_app.config["SETTINGS"]
    attempts = submissions.attempts_of(req.db, assessment, req.context.person_id)
    latest = attempts[-1] if attempts else None
    decided = results.decision_in_force(req.db, assessment, req.context.person_id)
    return render_template(
        "assessments/case.html",
        req=req,
        assessment=assessment,
        referential=display.referential_of(req.plugin, assessment),
        block=display.block_of(req.plugin, assessment),
        epreuve=display.epreuve_of(req.plugin, assessment),
        case=display.case_of(req.plugin, assessment),
        deadline=display.french_datetime(assessment.deadline),
        deadline_passed=submissions.deadline_passed(assessment),
        extensions=files.accepted_extensions(assessment.allowed_extensions or ()),
        attempts=attempts,
        latest=latest,
        draft=latest if latest is not None and latest.status == "draft" else None,
        rights=submissions.attempt_rights(req.db, assessment, req.context.person_id, attempts),
        decision=decided,
        preview=req.context.is_trainer,
        file_limit_mb=limits.file_limit_mb(assessment, settings),
        request_limit_mb=limits.request_limit_mb(settings),
        too_big=limits.too_big_message("{name}", limits.file_limit_mb(assessment, settings)),
        too_much=limits.too_much_message(limits.request_limit_mb(settings)),
        refused=refused,
        **_formatters(),
    )


def _formatters() -> dict[str, Any]:
    return {
        "french_datetime": display.french_datetime,
        "french_size": display.french_size,
    }


@bp.post("/<int:assessment_id>/draft")
def save_draft(assessment_id: int) -> ResponseReturnValue:
    """JSON autosave (`{text}` → `{saved_at}`), or the no-JS form's "save" button."""
    req = _open(assessment_id, change=True)
    if request.is_json:
        body = _json_object()
        text = (body or {}).get("text", "")
        if body is None or not isinstance(text, str):
            # Refused rather than read as empty: that would wipe the draft's text.
            raise ServiceError("Envoyez un objet JSON {« text » : texte}.", code="bad_json")
        with db.transaction() as session:
            draft = submissions.current_draft(session, req.assessment, _me(req))
            saved = submissions.autosave(session, draft, text)
        return jsonify(
            {"saved_at": saved.isoformat(), "label": display.french_time(saved), "id": draft.id}
        )
    return _apply_form(req, then=request.form.get("next"))


@bp.post("/<int:assessment_id>/files")
def upload_files(assessment_id: int) -> ResponseReturnValue:
    """One or more files (multipart); each refused file gets its own French message."""
    req = _open(assessment_id, change=True)
    return _apply_form(req, then=None)


def _apply_form(req: Request, then: str | None) -> ResponseReturnValue:
    """The submission form posts text and files together: save both, then go back."""
    uploads = [f for f in request.files.getlist("files") if f.filename]
    with db.transaction() as session:
        draft = submissions.current_draft(session, req.assessment, _me(req))
        if "text" in request.form:
            submissions.autosave(session, draft, request.form["text"])
        report = submissions.add_files(
            session,
            draft,
            uploads,
            upload_dir=_upload_dir(),
            max_file_mb=limits.request_limit_mb(current_app.config["SETTINGS"]),
        )
    for message in report.refused:  # shown beside the file field, which gets the focus
        flash(message, "file-error")
    if report.stored:
        names = ", ".join(f"« {row.filename} »" for row in report.stored)
        added = "Fichiers ajoutés" if len(report.stored) > 1 else "Fichier ajouté"
        flash(f"{added} : {names}.", "success")
    elif not report.refused:
        flash("Brouillon enregistré.", "success")
    if then == "confirm":
        return redirect(
            url_for(
                "assessments.confirm_submit", assessment_id=req.assessment.id, launch=_lid(req)
            ),
            code=303,
        )
    return _back(req, "#erreurs-fichiers" if report.refused else "#remise")


_FORM_ENDPOINTS = {"assessments.save_draft", "assessments.upload_files", "assessments.delete_file"}


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
    """A send over the size cap: the submission page again, its text saved, the refusal said
    beside the file field (the form was never parsed: `limits` reads the fields itself)."""
    settings = current_app.config["SETTINGS"]
    boundary = request.mimetype_params.get("boundary")
    assessment_id = (request.view_args or {}).get("assessment_id")
    cap = int(current_app.config["MAX_CONTENT_LENGTH"])
    # Only a send refused for its declared size is still unread; one refused mid-parse (too
    # many parts, an oversized field) has been partly consumed and cannot be read again.
    unread = (request.content_length or 0) > cap
    if (
        request.endpoint not in _FORM_ENDPOINTS
        or not boundary
        or assessment_id is None
        or not unread
    ):
        return render_error(
            413,
            "http_413",
            "Envoi trop volumineux",
            limits.too_much_message(limits.request_limit_mb(settings)),
        )
    sent = limits.read_leading_fields(request.environ, boundary, cap)
    try:  # Flask does not handle errors raised inside an error handler: render them here
        req = _open(int(assessment_id), change=True, fields=sent.fields)
        if "text" in sent.fields:
            with db.transaction() as session:
                draft = submissions.current_draft(session, req.assessment, _me(req))
                submissions.autosave(session, draft, sent.fields["text"])
            req.db.expire_all()
    except (ServiceError, HTTPException) as error:
        return current_app.handle_user_exception(error)
    message = limits.refusal_message(
        [files.printable_name(n) or "fichier sans nom" for n in sent.file_names],
        limits.file_limit_mb(req.assessment, settings),
        limits.request_limit_mb(settings),
    )
    return _case_page(req, refused=(message,)), 413


@bp.post("/<int:assessment_id>/files/<int:file_id>/delete")
def delete_file(assessment_id: int, file_id: int) -> ResponseReturnValue:
    req = _open(assessment_id, change=True)
    with db.transaction() as session:
        draft = submissions.current_draft(session, req.assessment, _me(req))
        if "text" in request.form:
            submissions.autosave(session, draft, request.form["text"])
        key = submissions.remove_file(session, draft, file_id)
    files.discard(_upload_dir(), key)
    flash("Fichier retiré du brouillon.", "success")
    return _back(req, "#remise")


@bp.get("/<int:assessment_id>/files/<int:file_id>")
def download_file(assessment_id: int, file_id: int) -> ResponseReturnValue:
    """A handed-in file, to its author or to the course's trainers only."""
    req = _open(assessment_id, learner=False)
    row = req.db.get(SubmissionFile, file_id)
    if row is None or row.erased:
        raise NotFoundError("Ce fichier n'existe pas.")
    if req.context.is_trainer:
        access.course_submission(req.db, req.context, req.assessment, row.submission_id)
    else:
        access.own_submission(req.db, req.context, req.assessment, row.submission_id)
    location = files.path_of(_upload_dir(), row.storage_key)
    if not location.is_file():
        raise NotFoundError("Ce fichier n'est plus disponible sur le serveur.")
    return send_file(
        location,
        mimetype=row.content_type,
        as_attachment=True,
        download_name=row.filename,
        etag=row.sha256,
        conditional=False,
    )


@bp.get("/<int:assessment_id>/submit")
def confirm_submit(assessment_id: int) -> str:
    """The confirmation step: what will be handed in, and that it cannot be changed after."""
    req = _open(assessment_id)
    draft = submissions.current_draft(req.db, req.assessment, _me(req))
    req.db.commit()
    return render_template(
        "assessments/confirm.html",
        req=req,
        assessment=req.assessment,
        draft=draft,
        deadline=display.french_datetime(req.assessment.deadline),
        **_formatters(),
    )


@bp.post("/<int:assessment_id>/submit")
def submit(assessment_id: int) -> ResponseReturnValue:
    req = _open(assessment_id, change=True)
    with db.transaction() as session:
        draft = submissions.current_draft(session, req.assessment, _me(req))
        submitted = submissions.submit(session, draft)
    flash("Votre travail a été remis. Conservez votre récépissé.", "success")
    return redirect(
        url_for(
            "assessments.receipt",
            assessment_id=req.assessment.id,
            submission_id=submitted.id,
            launch=_lid(req),
        ),
        code=303,
    )


@bp.get("/<int:assessment_id>/receipt/<int:submission_id>")
def receipt(assessment_id: int, submission_id: int) -> str:
    req = _open(assessment_id, learner=False)
    if req.context.is_trainer:
        work = access.course_submission(req.db, req.context, req.assessment, submission_id)
    else:
        work = access.own_submission(req.db, req.context, req.assessment, submission_id)
    return render_template(
        "assessments/receipt.html",
        req=req,
        assessment=req.assessment,
        receipt=submissions.receipt(work),
        files=work.files,
        **_formatters(),
    )


@bp.post("/<int:assessment_id>/attempts")
def new_attempt(assessment_id: int) -> ResponseReturnValue:
    req = _open(assessment_id, change=True)
    from_previous = request.form.get("depart") == "precedente"
    with db.transaction() as session:
        draft = submissions.start_new_attempt(
            session, req.assessment, _me(req), from_previous=from_previous
        )
    start = "repart du texte de la précédente" if from_previous else "commence vide"
    flash(
        f"Tentative n° {draft.attempt} ouverte ({start}) : votre travail précédent est conservé.",
        "success",
    )
    return _back(req, "#remise")


@bp.get("/<int:assessment_id>/results", endpoint="results")
def results_page(assessment_id: int) -> str:
    """The decision in force, per competency and criterion, or « en attente d'évaluation »."""
    req = _open(assessment_id)
    decision = results.decision_in_force(req.db, req.assessment, req.context.person_id)
    block = display.block_of(req.plugin, req.assessment)
    result = results.block_result(decision, block) if decision is not None else None
    where = None
    if result is not None:
        standing = standing_of(
            req.db, req.plugin, req.context.organisation_id, req.context.person_id
        )
        facts = ledger.jury_facts(
            req.db, req.plugin.code, req.context.organisation_id, req.context.person_id
        )
        where = next_steps.build_next_steps(
            block.code,
            result.acquired,
            path.build_path(req.plugin, standing, facts),
            submissions.attempt_rights(req.db, req.assessment, req.context.person_id),
        )
    return render_template(
        "assessments/results.html",
        req=req,
        assessment=req.assessment,
        block=block,
        epreuve=display.epreuve_of(req.plugin, req.assessment),
        result=result,
        where=where,
        **_formatters(),
    )


@bp.get("/<int:assessment_id>/path", endpoint="path")
def path_page(assessment_id: int) -> str:
    """« Mon parcours »: the blocks held in this certification, as a picture and a list."""
    req = _open(assessment_id)
    standing = standing_of(req.db, req.plugin, req.context.organisation_id, req.context.person_id)
    facts = ledger.jury_facts(
        req.db, req.plugin.code, req.context.organisation_id, req.context.person_id
    )
    picture = path.build_path(req.plugin, standing, facts)
    return render_template(
        "assessments/path.html",
        req=req,
        assessment=req.assessment,
        picture=picture,
        svg=path.build_svg(picture),
        badges=[
            (issued, issued.ledger_entry)
            for issued in credentials.credentials_of(req.db, req.context.person_id, req.plugin.code)
        ],
        certification_badge=credentials.certification_credential_of(
            req.db, req.context.person_id, req.plugin.code
        ),
    )


@bp.get("/<int:assessment_id>/path/credentials/<int:credential_id>", endpoint="credential")
def credential_download(assessment_id: int, credential_id: int) -> ResponseReturnValue:
    """One of my Open Badges 3.0 credentials, as the signed JWT-VC file."""
    req = _open(assessment_id)
    mine = {
        issued.id: issued
        for issued in credentials.credentials_of(req.db, req.context.person_id, req.plugin.code)
    }
    whole = credentials.certification_credential_of(req.db, req.context.person_id, req.plugin.code)
    if whole is not None:
        mine[whole.id] = whole
    issued = mine.get(credential_id)
    if issued is None:
        raise NotFoundError("Cette attestation n'existe pas dans votre parcours.")
    response = current_app.response_class(issued.token, mimetype="application/vc+jwt")
    what = issued.ledger_entry.block_code if issued.ledger_entry else "certification"
    filename = f"{req.plugin.code}-{what}.jwt"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
