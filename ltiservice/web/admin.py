"""Deliveries seen by the LMS's administrators: what is waiting, what failed and why, retry.

Reached from an activity launched with an LTI Administrator role; everything is scoped to the
organisation of the launch's platform.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ltiservice import db, outbox
from ltiservice import deliveries as lines
from ltiservice.errors import AuthorisationError
from ltiservice.lti.context import LaunchContext, check_csrf, current_launch
from ltiservice.lti.roles import Role
from ltiservice.models import Organisation

bp = Blueprint("admin", __name__, url_prefix="/admin")


def administrator() -> LaunchContext:
    """The launch, if it carries the LTI Administrator role; 403 (401 without one) otherwise."""
    context = current_launch(request.values.get("launch"))
    if not context.has(Role.ADMINISTRATOR):
        raise AuthorisationError(
            "Cette page est réservée aux administrateurs de la plateforme de formation.",
            code="not_administrator",
        )
    return context


@bp.get("/deliveries")
def deliveries() -> str:
    """Counts per status and the failed deliveries of the organisation, with their reason."""
    context = administrator()
    session = db.session()
    return render_template(
        "admin/deliveries.html",
        context=context,
        organisation=session.get(Organisation, context.organisation_id),
        counts=outbox.counts(session, context.organisation_id),
        dead=lines.deliveries_of(session, context.organisation_id, ("dead",)),
        pending=lines.deliveries_of(session, context.organisation_id, ("pending",)),
        failing=[
            (failing, lines.destination_label(session, failing.destination))
            for failing in outbox.failing_destinations(session, context.organisation_id)
        ],
        give_up_h=outbox.RetrySchedule.from_settings(current_app.config["SETTINGS"]).give_up_after_s
        / 3600,
        statuses=lines.STATUSES,
    )


@bp.post("/deliveries/retry")
def retry() -> Response:
    """Queue the chosen failed deliveries again (or all of them), once the cause is fixed."""
    context = administrator()
    check_csrf(context, request.form.get("csrf_token"))
    ids = [int(i) for i in request.form.getlist("message") if i.isdigit()]
    count = outbox.retry_dead(db.session(), ids or None, context.organisation_id)
    flash(
        "Aucun envoi à relancer."
        if count == 0
        else "1 envoi remis en file : il partira au prochain passage."
        if count == 1
        else f"{count} envois remis en file : ils partiront au prochain passage.",
        "info",
    )
    return redirect(url_for("admin.deliveries", launch=context.launch_id), code=303)
