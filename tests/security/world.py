"""A small hostile world built through real LTI launches, for the security tests.

Three registrations of the same Open edX peer (the peer knows one tool at a time, so it is
re-pointed at another client id around each foreign launch: every launch is a full OIDC flow
signed by the peer's real key, which is more faithful than forging id_tokens ourselves):

- P1 (organisation "of-test"): assessment X in course-1, link-1, where learner A handed in work,
  learner B works, and trainer T grades; assessment Y in course-2 with its own trainer;
- P2: same organisation, another client id; a mirror of X (same course, link and user ids);
- P3: another organisation; another mirror of X, where a learner with A's very `sub` handed in.

Everything private carries a marker (``SECRET_*``) that the tests look for in every body.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import Assessment, Course, Person, Platform, Submission, SubmissionFile
from tests.support.browser import Browser, launch_id_of
from tests.support.lti_harness import CLIENT_ID, INSTRUCTOR, LEARNER, LtiHarness

SAME_ORG_CLIENT = "ltiservice-sameorg-client"
OTHER_ORG_CLIENT = "ltiservice-otherorg-client"
COURSE_1 = {"id": "course-1", "title": "CQP CRCA 2026", "label": "CRCA"}
COURSE_2 = {"id": "course-2", "title": "Autre cours", "label": "AUTRE"}
LINK_1 = {"id": "link-1", "title": "Étude de cas"}
LINK_2 = {"id": "link-2", "title": "Autre étude"}

SECRET_TITLE = "Évaluation X-secrète-4471"
SECRET_TEXT = "Analyse confidentielle de A-8c1e"
SECRET_FILE = "rapport-confidentiel-A-55d0.pdf"
SECRET_DRAFT_FILE = "brouillon-A-91bb.pdf"
SECRET_NAME = "Amélie Secrète-Dupont"
SECRET_EMAIL = "amelie.secrete@example.org"
FOREIGN_TEXT = "Texte d'un autre organisme Z9-b0b0"
FOREIGN_NAME = "Zoé Ailleurs"


def pdf(marker: str = "x", size: int = 1500) -> bytes:
    head = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n% " + marker.encode() + b"\n"
    return head + b"%" + b"p" * max(size - len(head) - 8, 0) + b"\n%%EOF\n"


@dataclass
class Actor:
    """Someone's browser and the launch it holds (``launch`` may be foreign or empty)."""

    name: str
    browser: Browser | None
    launch: str
    csrf: str
    base: str
    page: requests.Response | None = None

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """GET with ``?launch=``, POST with the ``launch``/``csrf_token`` fields."""
        url = f"{self.base}{path}"
        if method == "GET":
            params = {"launch": self.launch} if self.launch else {}
            params.update(kwargs.pop("params", {}))
            kwargs["params"] = params
        else:
            data = dict(kwargs.pop("data", None) or {})
            if self.launch:
                data.setdefault("launch", self.launch)
            if self.csrf:
                data.setdefault("csrf_token", self.csrf)
            kwargs["data"] = data
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 30)
        if self.browser is None:
            return requests.request(method, url, **kwargs)
        return self.browser.request(method, url, **kwargs)


@dataclass
class World:
    lti: LtiHarness
    platforms: dict[str, int] = field(default_factory=dict)
    assessments: dict[str, int] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def app(self) -> Any:
        return self.lti.live.app


def csrf_of_launch(app: Any, browser: Browser, launch: str) -> str:
    """The CSRF token the app put in this browser's signed session for this launch."""
    serializer = app.session_interface.get_signing_serializer(app)
    raw = browser.http.cookies.get("ltiservice_session")
    data = serializer.loads(raw)
    return str(data["launches"][launch]["csrf_token"])


def register(lti: LtiHarness, organisation: str, client_id: str, name: str) -> int:
    return lti.register_platform(organisation, client_id, name)


@contextmanager
def as_client(lti: LtiHarness, client_id: str) -> Iterator[None]:
    """Point the peer's one tool registration at ``client_id`` for the launches inside."""
    if client_id == CLIENT_ID:
        yield
        return
    lti.use_client(client_id)
    try:
        yield
    finally:
        lti.use_client(CLIENT_ID)


def place(
    lti: LtiHarness, platform_id: int, context_id: str, link_id: str, title: str, **extra: Any
) -> int:
    """An assessment row, as deep linking stores it."""
    with lti.live.app.app_context():
        session = db.session()
        platform = session.get(Platform, platform_id)
        assert platform is not None
        course = session.scalar(
            select(Course).where(Course.platform_id == platform_id, Course.context_id == context_id)
        )
        if course is None:
            course = Course(platform_id=platform_id, context_id=context_id, title=context_id)
            session.add(course)
            session.flush()
        values: dict[str, Any] = {
            "organisation_id": platform.organisation_id,
            "platform_id": platform_id,
            "course_id": course.id,
            "resource_id": f"res-{platform_id}-{context_id}-{link_id}",
            "resource_link_id": link_id,
            "title": title,
            "certification_code": "CRCA",
            "referential_version": "RNCP41351",
            "block_code": "B2B",
            "case_id": "crca-b2b-degat-des-eaux-irsi",
            "deadline": datetime.now(UTC) + timedelta(days=30),
            "allowed_extensions": [".pdf", ".docx", ".odt", ".png", ".txt"],
            "max_file_mb": 1,
            "max_files": 5,
            "max_attempts": 3,
            "score_maximum": 20.0,
            **extra,
        }
        assessment = Assessment(**values)
        session.add(assessment)
        session.commit()
        return assessment.id


def launch(
    world: World,
    actor: str,
    sub: str,
    *,
    role: str = LEARNER,
    client_id: str = CLIENT_ID,
    context: dict[str, Any] = COURSE_1,
    link: dict[str, Any] = LINK_1,
    name: str | None = None,
    email: str | None = None,
    browser: Browser | None = None,
) -> Actor:
    """A full launch through the peer; the actor holds its launch id and CSRF token."""
    lti = world.lti
    user = lti.user(sub, role, name=name or f"Personne {sub}")
    if email:
        user["email"] = email
    browser = browser or lti.browser()
    with as_client(lti, client_id):
        page = lti.launch(
            user, browser=browser, context=context, resource_link=link, ags=True, nrps=True
        )
    assert page.status_code == 200, page.text[:600]
    launch_id = launch_id_of(page.url)
    found = Actor(
        actor, browser, launch_id, csrf_of_launch(world.app, browser, launch_id), lti.tool_url, page
    )
    world.actors[actor] = found
    return found


def hand_in(actor: Actor, assessment_id: int, text: str, files: list[tuple[str, bytes]]) -> None:
    """Text and files through the learner form, then the submit button."""
    upload = [("files", (name, data, "application/pdf")) for name, data in files]
    saved = actor.request(
        "POST", f"/a/{assessment_id}/files", data={"text": text}, files=upload or None
    )
    assert saved.status_code == 303, saved.text[:600]
    done = actor.request("POST", f"/a/{assessment_id}/submit")
    assert done.status_code == 303, done.text[:600]


def file_id(world: World, filename: str) -> int:
    with world.app.app_context():
        row = db.session().scalar(select(SubmissionFile).where(SubmissionFile.filename == filename))
        assert row is not None, filename
        return int(row.id)


def submission_of(world: World, filename: str) -> Submission:
    with world.app.app_context():
        row = db.session().scalar(select(SubmissionFile).where(SubmissionFile.filename == filename))
        assert row is not None
        submission = db.session().get(Submission, row.submission_id)
        assert submission is not None
        db.session().expunge(submission)
        return submission


def open_second_attempt(lti: LtiHarness, assessment_id: int, sub: str) -> None:
    """Attempt 2 as a draft next to the learner's handed-in attempt 1."""
    with lti.live.app.app_context():
        session = db.session()
        first = session.scalar(
            select(Submission)
            .join(Person, Person.id == Submission.person_id)
            .where(Submission.assessment_id == assessment_id, Person.sub == sub)
        )
        assert first is not None and first.status == "submitted"
        session.add(
            Submission(
                assessment_id=assessment_id,
                person_id=first.person_id,
                attempt=2,
                status="draft",
                text="",
            )
        )
        session.commit()


def build_world(lti: LtiHarness) -> World:
    """Platforms, assessments, launches and real hand-ins; see the module docstring."""
    world = World(lti)
    world.platforms = {
        "P1": lti.platform_id,
        "P2": register(lti, "of-test", SAME_ORG_CLIENT, "Open edX bis (même organisme)"),
        "P3": register(lti, "of-autre", OTHER_ORG_CLIENT, "Open edX d'un autre organisme"),
    }
    p1, p2, p3 = (world.platforms[k] for k in ("P1", "P2", "P3"))
    world.assessments = {
        "X": place(lti, p1, "course-1", "link-1", SECRET_TITLE),
        "Y": place(lti, p1, "course-2", "link-2", "Évaluation du cours 2"),
        "X2": place(lti, p2, "course-1", "link-1", "Miroir même organisme"),
        "X3": place(lti, p3, "course-1", "link-1", "Miroir autre organisme"),
    }
    x = world.assessments["X"]

    owner = launch(world, "owner", "learner-1", name=SECRET_NAME, email=SECRET_EMAIL)
    hand_in(owner, x, SECRET_TEXT, [(SECRET_FILE, pdf("A-submitted"))])
    # A second attempt open while the first awaits grading: the pages no longer allow it (a
    # new attempt waits for the decision), but rows from before that rule hold exactly this.
    open_second_attempt(lti, x, "learner-1")
    draft = owner.request(
        "POST",
        f"/a/{x}/files",
        files=[("files", (SECRET_DRAFT_FILE, pdf("A-draft"), "application/pdf"))],
    )
    assert draft.status_code == 303
    world.ids["file"] = file_id(world, SECRET_FILE)
    world.ids["draft_file"] = file_id(world, SECRET_DRAFT_FILE)
    world.ids["submission"] = submission_of(world, SECRET_FILE).id

    launch(world, "other_learner", "learner-2", name="Bruno Voisin")
    launch(world, "trainer", "trainer-1", role=INSTRUCTOR, name="Tania Formatrice")
    launch(world, "other_course", "trainer-2", role=INSTRUCTOR, context=COURSE_2, link=LINK_2)
    launch(world, "other_platform", "trainer-1", role=INSTRUCTOR, client_id=SAME_ORG_CLIENT)
    # The other organisation has a learner with A's very `sub` who handed in work there.
    foreign = launch(
        world, "foreign_learner", "learner-1", client_id=OTHER_ORG_CLIENT, name=FOREIGN_NAME
    )
    hand_in(foreign, world.assessments["X3"], FOREIGN_TEXT, [])
    launch(world, "other_org", "trainer-1", role=INSTRUCTOR, client_id=OTHER_ORG_CLIENT)

    trainer = world.actors["trainer"]
    world.actors["anonymous"] = Actor("anonymous", None, "", "", lti.tool_url)
    # The trainer's launch id and token, replayed from the other learner's browser.
    stolen_browser = world.actors["other_learner"].browser
    world.actors["stolen"] = Actor(
        "stolen", stolen_browser, trainer.launch, trainer.csrf, lti.tool_url
    )
    return world
