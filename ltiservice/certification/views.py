"""The certification jury's pages, for the organisation's administrators and jury secretaries.

Reached from an activity launched with an LTI Administrator role, inside the LMS frame like
every page; everything is scoped to the launch's organisation. A state change needs the
launch's CSRF token and is refused, with the page and its French reasons, when the service
refuses it: nothing is stored then.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ltiservice import db
from ltiservice.assessments.display import rule_label
from ltiservice.certification import minutes, sessions
from ltiservice.errors import AuthorisationError, NotFoundError, ServiceError
from ltiservice.exports.scope import ExportError, Period
from ltiservice.grading.interface import JURY_OUTCOMES, JURY_ROUTES, CertificationPlugin
from ltiservice.grading.registration import registration_status
from ltiservice.lti.context import LaunchContext, check_csrf, current_launch
from ltiservice.lti.roles import Role
from ltiservice.models import Assessment, JurySession, Organisation, Person

bp = Blueprint("jury", __name__, url_prefix="/jury")

#: The largest civil-status CSV accepted from the browser (it is read, used and dropped).
IDENTITIES_MAX_BYTES = 5_000_000


def _secretary() -> LaunchContext:
    context = current_launch(request.values.get("launch"))
    if not context.has(Role.ADMINISTRATOR):
        raise AuthorisationError(
            "Les pages du jury de certification sont réservées aux administrateurs de "
            "l'organisme et aux secrétaires de jury (rôle Administrateur dans la plateforme).",
            code="not_administrator",
        )
    return context


def _changing() -> LaunchContext:
    context = _secretary()
    check_csrf(context, request.form.get("csrf_token"))
    return context


def _plugins() -> dict[str, CertificationPlugin]:
    return dict(current_app.extensions["plugins"])


def _plugin(code: str) -> CertificationPlugin:
    plugin = _plugins().get(code)
    if plugin is None:
        raise NotFoundError(f"La certification « {code} » n'est pas installée.")
    return plugin


def _session(context: LaunchContext, session_id: int) -> tuple[JurySession, CertificationPlugin]:
    session = sessions.session_for(db.session(), context.organisation_id, session_id)
    return session, _plugin(session.certification_code)


def _to_session(context: LaunchContext, session: JurySession, anchor: str = "") -> Response:
    target = url_for("jury.session_page", session_id=session.id, launch=context.launch_id)
    return redirect(target + (f"#{anchor}" if anchor else ""), code=303)


@bp.get("/")
def index() -> str:
    """The organisation's sessions and the form to open one."""
    context = _secretary()
    return render_template(
        "jury/index.html",
        context=context,
        sessions=sessions.sessions_of(db.session(), context.organisation_id),
        plugins=_plugins(),
        chosen=_launched_certification(context),
        today=dt.date.today().isoformat(),
        errors=[],
    )


def _launched_certification(context: LaunchContext) -> str:
    """The certification of the activity the secretary launched from, offered first."""
    assessment = (
        db.session().get(Assessment, context.assessment_id) if context.assessment_id else None
    )
    if assessment is None or assessment.organisation_id != context.organisation_id:
        return ""
    return assessment.certification_code


@bp.post("/sessions")
def create_session() -> Any:
    """Open a draft session of one certification's jury."""
    context = _changing()
    form = request.form
    try:
        plugin = _plugin(form.get("certification", ""))
        held_on = _date(form.get("held_on", ""))
        session = sessions.open_session(
            db.session(),
            plugin,
            context.organisation_id,
            version=form.get("version") or None,
            held_on=held_on,
            place=form.get("place", ""),
            creator_id=context.person_id,
        )
    except ServiceError as error:
        db.session().rollback()
        page = render_template(
            "jury/index.html",
            context=context,
            sessions=sessions.sessions_of(db.session(), context.organisation_id),
            plugins=_plugins(),
            chosen=form.get("certification", ""),
            today=form.get("held_on", ""),
            errors=[error.message],
        )
        return page, error.status
    db.session().commit()
    flash("Session de jury ouverte : inscrivez ses membres et présentez les candidats.", "ok")
    return _to_session(context, session)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ServiceError(
            "Indiquez la date de la session (jj/mm/aaaa).", code="jury_invalid", status=422
        ) from None


@bp.get("/sessions/<int:session_id>")
def session_page(session_id: int) -> str:
    """Members, composition check, candidates ready and presented, decisions, signature."""
    context = _secretary()
    session, plugin = _session(context, session_id)
    return _page(context, session, plugin, [])[0]


def _page(
    context: LaunchContext,
    session: JurySession,
    plugin: CertificationPlugin,
    errors: list[str],
    status: int = 200,
) -> tuple[str, int]:
    database = db.session()
    referential = sessions.referential_of(plugin, session)
    found = sessions.candidates(database, plugin, session)
    page = render_template(
        "jury/session.html",
        context=context,
        session=session,
        plugin=plugin,
        referential=referential,
        jury=referential.certification_jury,
        composition=sessions.composition_problems(plugin, session),
        signing=sessions.signing_problems(plugin, session),
        ready=[c for c in found if c.presented is None],
        presented={c.presented.id: c for c in found if c.presented is not None},
        vae_people=sessions.vae_candidates(database, session)
        if "vae" in referential.certification_jury.routes
        else [],
        outcomes=JURY_OUTCOMES,
        routes=JURY_ROUTES,
        member_label=minutes.member_label,
        proposals_text=minutes.proposals_text,
        outcome_text=minutes.outcome_text,
        block_titles={b.code: b.title for b in referential.blocks},
        candidate_proposed=sessions.proposed_blocks,
        registration=registration_status(referential, session.held_on),
        conventions=[
            entry
            for entry in referential.conventions()
            if entry.rule.startswith("certification_jury.")
        ],
        rule_label=rule_label,
        errors=errors,
    )
    return page, status


def _refused(context: LaunchContext, session_id: int, error: ServiceError) -> tuple[str, int]:
    """The session page again, with the reasons; the failed change is rolled back."""
    db.session().rollback()
    session, plugin = _session(context, session_id)
    problems = error.details.get("problems") or [error.message]
    return _page(context, session, plugin, list(problems), error.status)


@bp.post("/sessions/<int:session_id>/members")
def add_member(session_id: int) -> Any:
    """Record a member (titular or substitute) or an observer."""
    context = _changing()
    session, plugin = _session(context, session_id)
    form = request.form
    kind = form.get("kind", "titular")
    substitute_for = form.get("substitute_for", "")
    data = sessions.MemberInput(
        name=form.get("name", ""),
        seat=form.get("seat", ""),
        titular=kind != "substitute",
        present=form.get("present") == "on",
        president=form.get("president") == "on",
        substitute_for_id=int(substitute_for) if substitute_for.isdigit() else None,
        observer=kind == "observer",
    )
    try:
        sessions.add_member(db.session(), plugin, session, data)
    except ServiceError as error:
        return _refused(context, session_id, error)
    db.session().commit()
    return _to_session(context, session, "membres")


@bp.post("/sessions/<int:session_id>/members/<int:member_id>/remove")
def remove_member(session_id: int, member_id: int) -> Any:
    context = _changing()
    session, _ = _session(context, session_id)
    try:
        sessions.remove_member(db.session(), session, member_id)
    except ServiceError as error:
        return _refused(context, session_id, error)
    db.session().commit()
    return _to_session(context, session, "membres")


@bp.post("/sessions/<int:session_id>/candidates")
def present(session_id: int) -> Any:
    """Present a candidate: with the committee's proposals, or by the VAE route."""
    context = _changing()
    session, plugin = _session(context, session_id)
    form = request.form
    person = form.get("person", "")
    try:
        if not person.isdigit():
            raise ServiceError(
                "Choisissez le candidat à présenter.", code="jury_invalid", status=422
            )
        decision = sessions.present(
            db.session(),
            plugin,
            session,
            int(person),
            route=form.get("route", "evaluation"),
            dossier_reference=form.get("dossier_reference", ""),
            recorder_id=context.person_id,
        )
    except ServiceError as error:
        return _refused(context, session_id, error)
    db.session().commit()
    return _to_session(context, session, f"candidat-{decision.id}")


@bp.post("/sessions/<int:session_id>/candidates/<int:decision_id>")
def decide(session_id: int, decision_id: int) -> Any:
    """Record the jury's decision for a presented candidate."""
    context = _changing()
    session, plugin = _session(context, session_id)
    form = request.form
    interview = form.get("final_interview")
    choice = sessions.Choice(
        outcome=form.get("outcome", ""),
        blocks=tuple(form.getlist("block")),
        final_interview_passed={"passed": True, "failed": False}.get(interview or ""),
        reason=form.get("reason", ""),
    )
    try:
        decision = sessions.decision_in(session, decision_id)
        sessions.record(db.session(), plugin, session, decision, choice, context.person_id)
    except ServiceError as error:
        return _refused(context, session_id, error)
    db.session().commit()
    return _to_session(context, session, f"candidat-{decision_id}")


@bp.post("/sessions/<int:session_id>/candidates/<int:decision_id>/withdraw")
def withdraw(session_id: int, decision_id: int) -> Any:
    context = _changing()
    session, _ = _session(context, session_id)
    try:
        sessions.withdraw(db.session(), session, decision_id)
    except ServiceError as error:
        return _refused(context, session_id, error)
    db.session().commit()
    return _to_session(context, session, "candidats")


@bp.post("/sessions/<int:session_id>/sign")
def sign(session_id: int) -> Any:
    """Sign the minutes: the composition is checked, then the decisions take effect."""
    context = _changing()
    session, plugin = _session(context, session_id)
    if request.form.get("confirm") != "on":
        error = ServiceError(
            "Cochez la case de confirmation : la signature du procès-verbal est définitive.",
            code="minutes_unconfirmed",
            status=422,
        )
        return _refused(context, session_id, error)
    database = db.session()
    signer = database.get(Person, context.person_id)
    organisation = database.get(Organisation, context.organisation_id)
    assert organisation is not None  # a launch's organisation exists

    def render(signed: JurySession) -> bytes:
        return minutes.render_minutes(
            signed,
            minutes.MinutesContext(
                organisation=organisation,
                plugin=plugin,
                problems=tuple(sessions.composition_problems(plugin, signed)),
                signer=(signer.name or signer.sub) if signer else "—",
            ),
        )

    try:
        signed = sessions.sign_minutes(database, plugin, session, context.person_id, render)
    except ServiceError as error:
        return _refused(context, session_id, error)
    database.commit()
    awarded = len(signed.awards)
    flash(
        f"Procès-verbal signé : {len(session.decisions)} décision(s) du jury, "
        f"{len(signed.ledger_entries)} bloc(s) capitalisé(s), {awarded} certification(s) "
        "attribuée(s).",
        "ok",
    )
    return _to_session(context, session)


@bp.get("/sessions/<int:session_id>/minutes.pdf")
def minutes_pdf(session_id: int) -> Response:
    """The signed minutes, as stored when they were signed."""
    context = _secretary()
    session, _ = _session(context, session_id)
    if session.minutes_pdf is None:
        raise NotFoundError("Le procès-verbal n'existe qu'une fois la session signée.")
    response = current_app.response_class(session.minutes_pdf, mimetype="application/pdf")
    name = f"pv-jury-{session.certification_code}-{session.held_on.isoformat()}.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.post("/sessions/<int:session_id>/accrochage")
def accrochage(session_id: int) -> Any:
    """The CDC accrochage XML of the certifications this signed session awarded."""
    from ltiservice.exports.accrochage import build_accrochage, load_sender
    from ltiservice.exports.records import Scope

    context = _changing()
    session, plugin = _session(context, session_id)
    database = db.session()
    organisation = database.get(Organisation, context.organisation_id)
    assert organisation is not None
    upload = request.files.get("identities")
    try:
        if session.status != "signed":
            raise ExportError(
                "Signez d'abord le procès-verbal : seules ses décisions se déclarent."
            )
        if upload is None or not upload.filename:
            raise ExportError("Joignez le fichier d'état civil des titulaires (CSV).")
        raw = upload.stream.read(IDENTITIES_MAX_BYTES + 1)
        if len(raw) > IDENTITIES_MAX_BYTES:
            raise ExportError("Fichier d'état civil trop volumineux (5 Mo au plus).")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ExportError("Fichier d'état civil : encodage attendu UTF-8.") from None
        settings = current_app.config["SETTINGS"]
        sender = load_sender(_sender_path(organisation))
        scope = Scope(organisation.id, organisation.slug, plugin, Period(None, None))
        document, _count = build_accrochage(
            database, scope, sender, text, settings.cdc_xsd_version, session_id=session.id
        )
    except ExportError as error:
        return _refused(
            context, session_id, ServiceError(str(error), code="export_refused", status=422)
        )
    response = current_app.response_class(document, mimetype="application/xml")
    name = f"accrochage-{session.certification_code}-{session.held_on.isoformat()}.xml"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _sender_path(organisation: Organisation) -> Path:
    """The organisation's CDC identifiers: ``<accrochage_dir>/<slug>.toml``."""
    configured = current_app.config["SETTINGS"].accrochage_dir
    folder = Path(configured) if configured else Path(current_app.instance_path) / "accrochage"
    return folder / f"{organisation.slug}.toml"
