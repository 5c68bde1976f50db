"""No personal data in logs: a whole flow at DEBUG, every line scanned.

Launch (with name and email), hand in, grade by two evaluators, sign the jury decision,
deliver the AGS score to the platform: the `ltiservice` loggers at DEBUG, the werkzeug access
log and pylti1p3 are captured, then each line is searched for names, emails, the id_tokens and
access tokens that crossed the wire, the client assertion, the tool's private key, the session
secret, and the learners' texts.

What is allowed: LTI `sub`s, launch ids and database ids. A `sub` is the platform's opaque,
pseudonymous identifier (LTI 1.3 core §5.1.2); logs need an id to trace a launch, and the
person behind it can only be found through the LMS or our database, which hold the rest.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import pytest
from lxml import html
from sqlalchemy import select

from ltiservice import db, outbox
from ltiservice.lti import deep_linking
from ltiservice.models import Assessment, Submission
from ltiservice.passback import deliverers
from tests.evaluations.support import criteria, verdict_form
from tests.security.world import (
    COURSE_1,
    LINK_1,
    SECRET_EMAIL,
    SECRET_FILE,
    SECRET_NAME,
    SECRET_TEXT,
    Actor,
    World,
    csrf_of_launch,
    hand_in,
    launch,
    pdf,
    place,
)
from tests.support.browser import launch_id_of
from tests.support.lti_harness import INSTRUCTOR, LtiHarness

AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CHIEF = ("Charles Hiérarchique", "charles.chef@example.org")
COLLEAGUE = ("Colette Autreservice", "colette.collegue@example.org")


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = f"{record.name} {record.levelname} {record.getMessage()}"
        if record.exc_info:
            line += " " + logging.Formatter().formatException(record.exc_info)
        self.lines.append(line)


@pytest.fixture
def captured() -> Iterator[Capture]:
    handler = Capture()
    names = ("ltiservice", "werkzeug", "pylti1p3")
    loggers = [logging.getLogger(name) for name in names]
    saved = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    yield handler
    for logger, level in zip(loggers, saved, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def _sign(trainer: Actor, base: str, role: str) -> None:
    page = trainer.request("GET", f"{base}/grade")
    assert page.status_code == 200
    fields = verdict_form(criteria("B2B"), "met", role=role)
    signed = trainer.request("POST", f"{base}/evaluation/sign", data=fields)
    assert signed.status_code == 303, signed.text[:400]


def _decide(trainer: Actor, base: str) -> None:
    page = trainer.request("GET", f"{base}/decision")
    expected = html.fromstring(page.text).xpath("//input[@name='expected_decision']/@value")
    signed = trainer.request(
        "POST", f"{base}/decision", data={"expected_decision": expected[0] if expected else ""}
    )
    assert signed.status_code == 303, signed.text[:400]


def _use_lms_line_items(world: World, learner: Actor, assessment_id: int) -> None:
    with world.app.app_context():
        endpoint = deep_linking.launch_body(learner.launch)[AGS_ENDPOINT]
        session = db.session()
        assessment = session.get(Assessment, assessment_id)
        assert assessment is not None
        assessment.lineitems_url = endpoint["lineitems"]
        session.commit()


def _secrets(world: World) -> dict[str, str]:
    """What must never be logged, read from where it really lives."""
    app = world.app
    found = {
        "learner name": SECRET_NAME,
        "learner email": SECRET_EMAIL,
        "evaluator name": CHIEF[0],
        "evaluator email": CHIEF[1],
        "other evaluator email": COLLEAGUE[1],
        "learner text": SECRET_TEXT,
        "session secret": app.config["SECRET_KEY"],
    }
    pem = app.extensions["lti_keyring"].current().private_pem
    pem_text = pem.decode() if isinstance(pem, bytes) else str(pem)
    body = [line for line in pem_text.splitlines() if line and not line.startswith("-----")]
    found["private key"] = body[1]  # a line from the middle of the key material
    return found


_JWT = re.compile(r"eyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]*")
_BEARER = re.compile(r"Bearer\s+\S{8,}", re.I)


def _learner_launch(world: World, lti: LtiHarness) -> tuple[Actor, str]:
    """The learner's launch, form-posted here so the test holds the very id_token."""
    user = lti.user("learner-1", name=SECRET_NAME)
    user["email"] = SECRET_EMAIL
    browser, form, _ = lti.id_token_for(
        user, context=COURSE_1, resource_link=LINK_1, ags=True, nrps=True
    )
    page = browser.post(form["action"], data={"id_token": form["id_token"], "state": form["state"]})
    assert page.status_code == 200, page.text[:400]
    launch_id = launch_id_of(page.url)
    actor = Actor(
        "learner",
        browser,
        launch_id,
        csrf_of_launch(world.app, browser, launch_id),
        lti.tool_url,
        page,
    )
    return actor, form["id_token"]


@pytest.mark.peer
def test_a_whole_flow_logs_no_personal_data_nor_secrets(lti: LtiHarness, captured: Capture) -> None:
    world = World(lti)
    x = place(lti, lti.platform_id, "course-1", "link-1", "Évaluation journalisée")
    learner, id_token = _learner_launch(world, lti)
    _use_lms_line_items(world, learner, x)
    hand_in(learner, x, SECRET_TEXT, [(SECRET_FILE, pdf("journal"))])
    with world.app.app_context():
        submission_id = db.session().scalar(
            select(Submission.id).where(Submission.assessment_id == x)
        )
    base = f"/a/{x}/submissions/{submission_id}"
    chief = launch(world, "chief", "chef-1", role=INSTRUCTOR, name=CHIEF[0], email=CHIEF[1])
    colleague = launch(
        world, "colleague", "collegue-1", role=INSTRUCTOR, name=COLLEAGUE[0], email=COLLEAGUE[1]
    )
    _sign(chief, base, "hierarchy")
    _sign(colleague, base, "other_service")
    _decide(chief, base)
    app = world.app
    outcome = outbox.run_once(app.extensions["db_sessionmaker"], deliverers(app))
    assert outcome.delivered >= 2  # the Submitted score and the FullyGraded one
    assert "FullyGraded" in json.dumps(lti.peer.scores())

    lines = captured.lines
    assert any("werkzeug" in line and "/lti/launch" in line for line in lines)
    assert any(line.startswith("ltiservice") for line in lines)
    leaks = {
        label: [line[:160] for line in lines if value and value in line]
        for label, value in {**_secrets(world), "learner id_token": id_token}.items()
    }
    leaks["any JWT"] = [line[:160] for line in lines if _JWT.search(line)]
    leaks["bearer token"] = [line[:160] for line in lines if _BEARER.search(line)]
    assert {label: found for label, found in leaks.items() if found} == {}
