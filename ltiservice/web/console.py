"""The organisation console: what an LMS administrator needs without the command line.

Reached from an activity launched with an LTI Administrator role; every page and action is
scoped to the launch's organisation. Each action calls the same service function as its
`ltiservice` command (registration links, platforms, LRS destinations, exports); the jury's
minutes and accrochage stay on the jury pages (`/jury/`), which the console links to.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ltiservice import db, lrs, outbox, platforms
from ltiservice.certification import sessions
from ltiservice.errors import NotFoundError, ServiceError
from ltiservice.exports import records
from ltiservice.exports.scope import find_certification, parse_day, parse_period
from ltiservice.exports.tabular import FORMATS, write_table
from ltiservice.lti import registration_links as links
from ltiservice.lti.context import LaunchContext, check_csrf
from ltiservice.models import Organisation
from ltiservice.models.tenancy import utcnow
from ltiservice.web.admin import administrator

bp = Blueprint("console", __name__, url_prefix="/admin")

VALIDITY = {"12h": "12 heures", "7d": "7 jours", "2w": "2 semaines"}
MIME = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _changing() -> LaunchContext:
    context = administrator()
    check_csrf(context, request.form.get("csrf_token"))
    return context


def _organisation(context: LaunchContext) -> Organisation:
    organisation = db.session().get(Organisation, context.organisation_id)
    assert organisation is not None  # a launch always belongs to an existing organisation
    return organisation


def _back(endpoint: str, context: LaunchContext) -> Response:
    return redirect(url_for(endpoint, launch=context.launch_id), code=303)


def _page(template: str, context: LaunchContext, **values: Any) -> str:
    return render_template(
        f"console/{template}", context=context, organisation=_organisation(context), **values
    )


@bp.get("/")
def home() -> str:
    """One link per task, with what needs attention first."""
    context = administrator()
    session = db.session()
    return _page(
        "home.html",
        context,
        pending_platforms=sum(
            p.status != "active" for p in platforms.platforms_of(session, context.organisation_id)
        ),
        dead=outbox.counts(session, context.organisation_id).get("dead", 0),
    )


# -- registration links ------------------------------------------------------------------------


def _links_page(context: LaunchContext, created: links.NewLink | None = None) -> str:
    session = db.session()
    now = utcnow()
    found = links.list_links(session, _organisation(context))
    return _page(
        "registrations.html",
        context,
        links=[(link, links.unusable_reason(link, now)) for link in found],
        used_by=links.platforms_by_link(session, context.organisation_id),
        created=created,
        created_url=(
            links.registration_url(current_app.config["SETTINGS"].base_url, created.token)
            if created
            else None
        ),
        validity=VALIDITY,
    )


@bp.get("/registrations")
def registrations() -> str:
    """The organisation's registration links, which platform used which, and the form."""
    return _links_page(administrator())


@bp.post("/registrations")
def create_link() -> str:
    """Create a link; its URL is shown on this answer only (only its hash is stored)."""
    context = _changing()
    valid_for = links.parse_duration(
        request.form.get("expires", "7d") if request.form.get("expires") in VALIDITY else "7d"
    )
    uses = request.form.get("uses", "1")
    session = db.session()
    created = links.create_link(
        session,
        _organisation(context),
        valid_for,
        int(uses) if uses.isdigit() and 0 < int(uses) <= 100 else 1,
        request.form.get("note"),
    )
    session.commit()
    return _links_page(context, created)


@bp.post("/registrations/<int:link_id>/revoke")
def revoke_link(link_id: int) -> Response:
    """Revoke one of the organisation's links."""
    context = _changing()
    session = db.session()
    links.revoke_link(session, link_id, context.organisation_id)
    session.commit()
    flash(f"Lien n° {link_id} révoqué : il ne permet plus aucun enregistrement.", "info")
    return _back("console.registrations", context)


# -- platforms ---------------------------------------------------------------------------------


@bp.get("/platforms")
def platforms_page() -> str:
    """The organisation's platforms and their deployments."""
    context = administrator()
    return _page(
        "platforms.html",
        context,
        platforms=platforms.platforms_of(db.session(), context.organisation_id),
    )


@bp.post("/platforms/<int:platform_id>/approve")
def approve_platform(platform_id: int) -> Response:
    """Accept the launches of a platform that registered itself and waits for approval."""
    context = _changing()
    session = db.session()
    platform = platforms.find_platform(session, str(platform_id), context.organisation_id)
    name = platform.name
    changed = platforms.approve_platform(session, platform)
    session.commit()
    flash(
        f"Plateforme « {name} » validée : ses lancements sont acceptés."
        if changed
        else f"La plateforme « {name} » était déjà active.",
        "info",
    )
    return _back("console.platforms_page", context)


# -- LRS destinations --------------------------------------------------------------------------


@bp.get("/lrs")
def lrs_page() -> str:
    """The organisation's LRS destinations (never their password) and the form to add one."""
    context = administrator()
    return _lrs_page(context)


def _lrs_page(
    context: LaunchContext,
    probe: tuple[int, lrs.ProbeResult] | None = None,
    refused: str | None = None,
    typed: Any = None,
) -> str:
    return _page(
        "lrs.html",
        context,
        destinations=lrs.destinations_of(db.session(), context.organisation_id),
        kinds={"organisation": "LRS de l'organisme", "branch": "LRS de la branche"},
        probe=probe,
        refused=refused,
        typed=typed or {},
    )


@bp.post("/lrs")
def add_lrs() -> Response | tuple[str, int]:
    """Add a destination; the password is encrypted and never shown again.

    Refused (bad address, name taken…): the page again with the reason and the fields typed,
    except the password; nothing is stored.
    """
    context = _changing()
    form = request.form
    spec = lrs.DestinationSpec(
        _organisation(context).slug,
        form.get("name", "").strip(),
        form.get("endpoint", "").strip(),
        form.get("username", "").strip(),
        form.get("password", ""),
        form.get("kind", "organisation"),
    )
    session = db.session()
    try:
        added = lrs.add_destination(session, str(current_app.config["SECRET_KEY"]), spec)
    except ServiceError as error:
        session.rollback()
        return _lrs_page(context, refused=error.message, typed=form), error.status
    name = added.name
    session.commit()
    flash(f"Destination « {name} » ajoutée : les nouvelles déclarations y partiront.", "info")
    return _back("console.lrs_page", context)


@bp.post("/lrs/<int:destination_id>/test")
def test_lrs(destination_id: int) -> str:
    """A real, read-only call to the LRS with the stored credentials."""
    context = _changing()
    destination = lrs.find_destination(db.session(), destination_id, context.organisation_id)
    result = lrs.probe(
        str(current_app.config["SECRET_KEY"]), destination, current_app.extensions["lti_http"]
    )
    return _lrs_page(context, (destination_id, result))


@bp.post("/lrs/<int:destination_id>/state")
def set_lrs_state(destination_id: int) -> Response:
    """Pause a destination (``active=0``) or resume it (``active=1``)."""
    context = _changing()
    session = db.session()
    destination = lrs.find_destination(session, destination_id, context.organisation_id)
    active = request.form.get("active") == "1"
    name = destination.name
    lrs.set_active(session, destination, active)
    session.commit()
    flash(
        f"Destination « {name} » " + ("de nouveau active." if active else "mise en pause."),
        "info",
    )
    return _back("console.lrs_page", context)


# -- exports and the jury's documents ----------------------------------------------------------


@bp.get("/exports")
def exports() -> str:
    """The download forms, and the signed jury sessions with their minutes."""
    context = administrator()
    return _page(
        "exports.html",
        context,
        plugins=dict(current_app.extensions["plugins"]),
        sessions=sessions.sessions_of(db.session(), context.organisation_id),
        tables=records.TABLES,
    )


@bp.get("/exports/<kind>.<fmt>")
def download(kind: str, fmt: str) -> Response:
    """Decisions or ledger of one certification and period, as CSV or JSON."""
    context = administrator()
    table = records.TABLES.get(kind)
    if table is None or fmt not in FORMATS:
        raise NotFoundError("Cet export n'existe pas.", code="no_such_export")
    args = request.args
    date_from, date_to = args.get("from") or None, args.get("to") or None
    for text in (date_from, date_to):
        if text:
            parse_day(text, "la période")
    scope = records.Scope(
        context.organisation_id,
        _organisation(context).slug,
        find_certification(current_app.extensions["plugins"], args.get("certification", "")),
        parse_period(date_from, date_to),
        with_names=args.get("with_names") == "1",
        all_versions=kind == "decisions" and args.get("all_versions") == "1",
    )
    buffer = io.StringIO(newline="")
    for _ in write_table(db.session(), table, scope, fmt, buffer):
        pass
    name = "-".join(part for part in (kind, scope.certification_code, date_from, date_to) if part)
    return Response(
        buffer.getvalue().encode("utf-8"),
        mimetype=MIME[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )
