"""Every route of the app by every kind of visitor: the status, and no foreign data in the body.

The world (tests/security/world.py) is built with real launches from the Open edX peer on
three registrations; the work is handed in through the learner pages. One matrix row per
(endpoint, method); `test_every_route_is_in_the_matrix` fails when a route is added to the app
without a row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from ltiservice import db
from ltiservice.models import Assessment, Evaluation, Submission, SubmissionFile
from tests.evaluations.support import criteria, verdict_form
from tests.security.world import (
    FOREIGN_NAME,
    FOREIGN_TEXT,
    SECRET_DRAFT_FILE,
    SECRET_EMAIL,
    SECRET_FILE,
    SECRET_NAME,
    SECRET_TEXT,
    SECRET_TITLE,
    World,
    build_world,
    pdf,
)
from tests.support.lti_harness import LtiHarness

#: Routes outside the matrix, each with the reason.
SKIPPED = {
    "static": "public assets (CSS, JS), no data",
    "health.health": "liveness probe, no data, no identity",
    "lti.jwks": "the tool's public keys, public by design",
    "lti.login": "LTI protocol: OIDC login initiation (tests/lti/test_launch_security.py)",
    "lti.launch": "LTI protocol: id_token validation (tests/lti/test_launch_security.py)",
    "lti_registration.start": "LTI Dynamic Registration (tests/lti/test_registration.py)",
    "lti_registration.finish": "LTI Dynamic Registration (tests/lti/test_registration.py)",
    "lti_registration.without_link": "refused, no link (tests/lti/test_registration_links.py)",
}
SKIPPED_BLUEPRINTS = {
    "demo": "the demo platform, refused in production (tests/demo/)",
    "xapi_iris": "public xAPI profile and activity definitions, no identity (tests/xapi_iris/)",
    "case": "the installed referentials as CASE v1.1, public data (tests/grading/test_case.py)",
    "credentials": "issuer profiles and revocation lists, public by design (tests/credentials/)",
}

#: Column order of the expected statuses below.
ACTORS = (
    "owner",  # learner A, their own work
    "other_learner",  # learner B of the same assessment, asking for A's work
    "trainer",  # trainer of the course
    "other_course",  # trainer of another course on the same platform
    "other_platform",  # trainer on another platform of the same organisation (same ids)
    "other_org",  # trainer of another organisation (same ids)
    "foreign_learner",  # a learner of another organisation with A's very `sub`
    "anonymous",  # no launch, no cookie
    "stolen",  # the trainer's launch id and token, replayed from learner B's browser
)
#: Order the requests run in: refused visitors first, so what they try cannot be masked.
RUN_ORDER = (
    "anonymous",
    "stolen",
    "other_org",
    "foreign_learner",
    "other_platform",
    "other_course",
    "other_learner",
    "trainer",
    "owner",
)
#: Who may read A's work (and so whose answers may contain it).
READERS_OF_A = {"owner", "trainer"}


@dataclass(frozen=True)
class Probe:
    endpoint: str
    method: str
    path: Callable[[World], str]
    expected: tuple[int, ...]  # in ACTORS order
    data: Callable[[World], dict[str, Any]] | None = None
    files: Callable[[World], list[Any]] | None = None


def _x(world: World) -> int:
    return world.assessments["X"]


def _a(tail: str = "") -> Callable[[World], str]:
    return lambda w: f"/a/{_x(w)}{tail.format(**w.ids)}"


def _sign_form(world: World) -> dict[str, Any]:
    return dict(verdict_form(criteria("B2B"), "met", role="hierarchy"))


#              owner other trainer course platf  org  f.lrn anon  stolen
LEARNER_PAGE = (200, 200, 403, 403, 403, 403, 404, 401, 401)
LEARNER_POST = (303, 303, 403, 403, 403, 403, 404, 401, 401)
A_ONLY = (200, 404, 200, 404, 404, 404, 404, 401, 401)
TRAINER = (403, 403, 200, 404, 404, 404, 403, 401, 401)
TRAINER_POST = (403, 403, 303, 404, 404, 404, 403, 401, 401)

PROBES = (
    Probe("web.index", "GET", lambda w: "/", (200,) * 9),
    Probe("web.after_launch", "GET", lambda w: "/start", (200,) * 7 + (401, 401)),
    Probe("assessments.case_page", "GET", _a(), (200, 200, 200, 404, 404, 404, 404, 401, 401)),
    Probe("assessments.download_file", "GET", _a("/files/{file}"), A_ONLY),
    Probe("assessments.receipt", "GET", _a("/receipt/{submission}"), A_ONLY),
    Probe("assessments.results", "GET", _a("/results"), LEARNER_PAGE),
    Probe("assessments.path", "GET", _a("/path"), LEARNER_PAGE),
    # Nobody holds a credential in this world: the learner's own download is a 404 too.
    Probe(
        "assessments.credential",
        "GET",
        _a("/path/credentials/1"),
        (404, 404, 403, 403, 403, 403, 404, 401, 401),
    ),
    Probe("assessments.confirm_submit", "GET", _a("/submit"), LEARNER_PAGE),
    Probe("evaluations.dashboard", "GET", _a("/dashboard"), TRAINER),
    Probe("evaluations.grade", "GET", _a("/submissions/{submission}/grade"), TRAINER),
    Probe("evaluations.decision", "GET", _a("/submissions/{submission}/decision"), TRAINER),
    # Placement acts on the visitor's own launch: only the role matters. Not a deep-linking
    # launch -> 400 for trainers.
    Probe(
        "placement.picker",
        "GET",
        lambda w: "/placement/picker",
        (403, 403, 400, 400, 400, 400, 403, 401, 401),
    ),
    # Every trainer here launched on a link already placed: the configuration leads to that
    # link's own dashboard (one link, one assessment), never to another's.
    Probe(
        "placement.configure",
        "GET",
        lambda w: "/placement/configure",
        (403, 403, 303, 303, 303, 303, 403, 401, 401),
    ),
    # None of the visitors is an LMS administrator (tests/outbox/test_admin_deliveries.py has one).
    Probe("admin.deliveries", "GET", lambda w: "/admin/deliveries", (403,) * 7 + (401, 401)),
    # The organisation console: LMS administrators only (tests/web/test_console.py has them,
    # and another organisation's administrator).
    *(
        Probe(endpoint, "GET", lambda w, path=path: path, (403,) * 7 + (401, 401))
        for endpoint, path in (
            ("console.home", "/admin/"),
            ("console.registrations", "/admin/registrations"),
            ("console.platforms_page", "/admin/platforms"),
            ("console.lrs_page", "/admin/lrs"),
            ("console.exports", "/admin/exports"),
            ("console.download", "/admin/exports/decisions.csv?certification=CRCA"),
        )
    ),
    Probe("jury.index", "GET", lambda w: "/jury/", (403,) * 7 + (401, 401)),
    Probe("jury.session_page", "GET", lambda w: "/jury/sessions/1", (403,) * 7 + (401, 401)),
    Probe(
        "jury.minutes_pdf", "GET", lambda w: "/jury/sessions/1/minutes.pdf", (403,) * 7 + (401, 401)
    ),
    Probe(
        "assessments.save_draft",
        "POST",
        _a("/draft"),
        LEARNER_POST,
        data=lambda w: {"text": "Nouveau brouillon"},
    ),
    Probe(
        "assessments.upload_files",
        "POST",
        _a("/files"),
        LEARNER_POST,
        files=lambda w: [("files", ("ajout.pdf", pdf("ajout"), "application/pdf"))],
    ),
    Probe(
        "assessments.delete_file",
        "POST",
        _a("/files/{draft_file}/delete"),
        (303, 404, 403, 403, 403, 403, 404, 401, 401),
    ),
    Probe("assessments.submit", "POST", _a("/submit"), LEARNER_POST),
    # Both learners' latest attempts await grading by then: allowed to ask, refused by the
    # attempt rule (409, « attend son évaluation »), never served someone else's work.
    Probe(
        "assessments.new_attempt",
        "POST",
        _a("/attempts"),
        (409, 409, 403, 403, 403, 403, 404, 401, 401),
    ),
    Probe(
        "evaluations.save_evaluation",
        "POST",
        _a("/submissions/{submission}/evaluation"),
        TRAINER_POST,
        data=_sign_form,
    ),
    Probe(
        "evaluations.sign_evaluation",
        "POST",
        _a("/submissions/{submission}/evaluation/sign"),
        TRAINER_POST,
        data=_sign_form,
    ),
    # One signed evaluation is not a jury: the trainer reaches the rules and gets 422.
    Probe(
        "evaluations.decision",
        "POST",
        _a("/submissions/{submission}/decision"),
        (403, 403, 422, 404, 404, 404, 403, 401, 401),
        data=lambda w: {"resolution": "Accord du jury"},
    ),
    # An empty form: trainers reach the form's validation (400), nothing is created.
    Probe(
        "placement.picker",
        "POST",
        lambda w: "/placement/picker",
        (403, 403, 400, 400, 400, 400, 403, 401, 401),
    ),
    Probe("admin.retry", "POST", lambda w: "/admin/deliveries/retry", (403,) * 7 + (401, 401)),
    # The certification jury's pages: LMS administrators only (none in this world).
    *(
        Probe(endpoint, "POST", lambda w, path=path: path, (403,) * 7 + (401, 401))
        for endpoint, path in (
            ("jury.create_session", "/jury/sessions"),
            ("jury.add_member", "/jury/sessions/1/members"),
            ("jury.remove_member", "/jury/sessions/1/members/1/remove"),
            ("jury.present", "/jury/sessions/1/candidates"),
            ("jury.decide", "/jury/sessions/1/candidates/1"),
            ("jury.withdraw", "/jury/sessions/1/candidates/1/withdraw"),
            ("jury.sign", "/jury/sessions/1/sign"),
            ("jury.accrochage", "/jury/sessions/1/accrochage"),
            ("console.create_link", "/admin/registrations"),
            ("console.revoke_link", "/admin/registrations/1/revoke"),
            ("console.approve_platform", "/admin/platforms/1/approve"),
            ("console.add_lrs", "/admin/lrs"),
            ("console.test_lrs", "/admin/lrs/1/test"),
            ("console.set_lrs_state", "/admin/lrs/1/state"),
        )
    ),
    Probe(
        "placement.configure",
        "POST",
        lambda w: "/placement/configure",
        (403, 403, 303, 303, 303, 303, 403, 401, 401),
    ),
)


def _routes(app: Flask) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED or rule.endpoint.split(".")[0] in SKIPPED_BLUEPRINTS:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.add((rule.endpoint, method))
    return routes


def test_every_route_is_in_the_matrix(app: Flask) -> None:
    covered = {(probe.endpoint, probe.method) for probe in PROBES}
    routes = _routes(app)

    assert routes - covered == set(), "routes without a row in the authorisation matrix"
    assert covered - routes == set(), "matrix rows for routes that no longer exist"
    assert all(len(probe.expected) == len(ACTORS) for probe in PROBES)


def _forbidden_markers(actor: str) -> list[str]:
    markers = [FOREIGN_TEXT, FOREIGN_NAME] if actor != "foreign_learner" else []
    if actor not in READERS_OF_A:
        markers += [SECRET_TEXT, SECRET_FILE, SECRET_DRAFT_FILE, SECRET_NAME, SECRET_EMAIL]
        if actor != "other_learner":
            markers.append(SECRET_TITLE)
    return markers


def _run(world: World, actors: tuple[str, ...]) -> tuple[list[str], dict[tuple[str, str], Any]]:
    problems: list[str] = []
    answers: dict[tuple[str, str], Any] = {}
    for actor_name in actors:
        actor = world.actors[actor_name]
        expected_at = ACTORS.index(actor_name)
        for probe in PROBES:
            path = probe.path(world)
            kwargs: dict[str, Any] = {}
            if probe.data:
                kwargs["data"] = probe.data(world)
            if probe.files:
                kwargs["files"] = probe.files(world)
            response = actor.request(probe.method, path, **kwargs)
            answers[(actor_name, f"{probe.method} {probe.endpoint}")] = response
            want = probe.expected[expected_at]
            row = f"{actor_name:15} {probe.method:4} {probe.endpoint:30}"
            if response.status_code != want:
                problems.append(f"{row} -> {response.status_code}, expected {want}")
            body = response.content.decode("utf-8", "replace")
            leaked = [marker for marker in _forbidden_markers(actor_name) if marker in body]
            if leaked:
                problems.append(f"{row} leaks {leaked}")
    return problems, answers


def _snapshot(world: World) -> dict[str, Any]:
    with world.app.app_context():
        session = db.session()
        work = session.get(Submission, world.ids["submission"])
        assert work is not None
        return {
            "status": work.status,
            "text": work.text,
            "files": session.scalar(select(func.count()).select_from(SubmissionFile)),
            "draft_file": session.get(SubmissionFile, world.ids["draft_file"]) is not None,
            "evaluations": session.scalar(select(func.count()).select_from(Evaluation)),
            "assessments": session.scalar(select(func.count()).select_from(Assessment)),
        }


@pytest.mark.peer
def test_authorisation_matrix(lti: LtiHarness) -> None:
    world = build_world(lti)
    before = _snapshot(world)
    refused = tuple(a for a in RUN_ORDER if a not in READERS_OF_A and a != "other_learner")

    problems, _ = _run(world, refused)
    # Refused visitors changed nothing at all (their tokens were valid for their own launch).
    assert _snapshot(world) == before
    more, _ = _run(world, ("other_learner",))
    problems += more
    after_b = _snapshot(world)
    assert (after_b["status"], after_b["text"], after_b["draft_file"]) == (
        "submitted",
        SECRET_TEXT,
        True,
    )
    assert after_b["evaluations"] == 0 and after_b["assessments"] == before["assessments"]
    more, answers = _run(world, ("trainer", "owner"))
    problems += more

    assert problems == []
    # The leak check can fail: the people allowed to read A's work do see it.
    original = pdf("A-submitted")
    assert answers[("owner", "GET assessments.download_file")].content == original
    assert answers[("trainer", "GET assessments.download_file")].content == original
    assert SECRET_FILE in answers[("owner", "GET assessments.receipt")].text
    assert SECRET_TEXT in answers[("trainer", "GET evaluations.grade")].text
