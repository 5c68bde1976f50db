"""Helpers of the evaluators' tests: assessments placed directly, people launched for real."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import requests
from lxml import html
from sqlalchemy import func, select

from ltiservice import db
from ltiservice.grading.loader import load_plugins
from ltiservice.models import Assessment, Course, Person, Platform, Submission
from tests.support.browser import Browser, launch_id_of
from tests.support.lti_harness import INSTRUCTOR, LEARNER, LtiHarness

COURSE = {"id": "course-1", "title": "CQP CRCA 2026", "label": "CRCA"}


def link(block: str) -> dict[str, str]:
    return {"id": f"link-{block}", "title": f"Étude de cas {block}"}


def place(
    lti: LtiHarness,
    block: str = "B2B",
    *,
    certification: str = "CRCA",
    version: str = "RNCP41351",
    context_id: str = "course-1",
    platform_id: int | None = None,
    grade_mapping: str = "decision",
    score_maximum: float = 20.0,
    epreuve: str | None = None,
) -> int:
    """An assessment placed on resource link ``link-<block>``, as deep linking stores it.

    With an ``epreuve``, the link is ``link-<block>-<epreuve>`` (launch with that key): each
    épreuve of a block is its own activity.
    """
    key = block if epreuve is None else f"{block}-{epreuve}"
    with lti.live.app.app_context():
        session = db.session()
        platform = session.get(Platform, platform_id or lti.platform_id)
        assert platform is not None
        course = session.scalar(
            select(Course).where(Course.platform_id == platform.id, Course.context_id == context_id)
        )
        if course is None:
            course = Course(platform_id=platform.id, context_id=context_id, title=context_id)
            session.add(course)
            session.flush()
        assessment = Assessment(
            organisation_id=platform.organisation_id,
            platform_id=platform.id,
            course_id=course.id,
            resource_id=f"res-{platform.id}-{context_id}-{key}",
            resource_link_id=link(key)["id"],
            title=f"Étude de cas {key}",
            certification_code=certification,
            referential_version=version,
            block_code=block,
            epreuve_code=epreuve,
            allowed_extensions=[".pdf"],
            score_maximum=score_maximum,
            grade_mapping=grade_mapping,
        )
        session.add(assessment)
        session.commit()
        return assessment.id


def hand_in(
    lti: LtiHarness,
    assessment_id: int,
    sub: str,
    *,
    status: str = "submitted",
    text: str = "Mon analyse du sinistre.",
) -> int:
    """A learner's attempt, stored as the learner pages would have left it."""
    with lti.live.app.app_context():
        session = db.session()
        assessment = session.get(Assessment, assessment_id)
        assert assessment is not None
        person = session.scalar(
            select(Person).where(Person.platform_id == assessment.platform_id, Person.sub == sub)
        )
        if person is None:
            person = Person(platform_id=assessment.platform_id, sub=sub, name=f"Apprenant {sub}")
            session.add(person)
            session.flush()
        submission = Submission(
            assessment_id=assessment_id,
            person_id=person.id,
            attempt=1,
            status=status,
            text=text,
            submitted_at=None if status == "draft" else func.now(),
        )
        session.add(submission)
        session.commit()
        return submission.id


@dataclass
class Visitor:
    """Someone's browser on the page a launch led to."""

    browser: Browser
    page: requests.Response
    launch: str
    base: str

    @property
    def csrf(self) -> str:
        """The page's CSRF token (empty when the page has no form, e.g. a learner's receipt)."""
        found = html.fromstring(self.page.text).xpath("//input[@name='csrf_token']/@value")
        return str(found[0]) if found else ""

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.browser.get(f"{self.base}{path}", params={"launch": self.launch, **params})

    def post(
        self, path: str, data: dict[str, Any] | list[tuple[str, str]] | None = None, **kw: Any
    ) -> requests.Response:
        fields: list[tuple[str, str]] = [("launch", self.launch), ("csrf_token", self.csrf)]
        items = data.items() if isinstance(data, dict) else (data or [])
        fields.extend((key, value) for key, value in items)
        return self.browser.post(f"{self.base}{path}", data=fields, **kw)

    def post_json(self, path: str, body: Any, csrf: str | None = "") -> requests.Response:
        headers = {"Accept": "application/json"}
        if csrf is not None:
            headers["X-CSRF-Token"] = csrf or self.csrf
        return self.browser.post(
            f"{self.base}{path}", params={"launch": self.launch}, json=body, headers=headers
        )


def launch(
    lti: LtiHarness,
    sub: str,
    block: str = "B2B",
    *,
    roles: tuple[str, ...] = (INSTRUCTOR,),
    context: dict[str, Any] | None = None,
    nrps: bool = False,
) -> Visitor:
    browser = lti.browser()
    page = lti.launch(
        lti.user(sub, *roles, name=f"Personne {sub}"),
        browser=browser,
        context=context or COURSE,
        resource_link=link(block),
        ags=True,
        nrps=nrps,
    )
    assert page.status_code == 200, page.text[:800]
    return Visitor(browser, page, launch_id_of(page.url), lti.tool_url)


def learner(lti: LtiHarness, sub: str, block: str = "B2B") -> Visitor:
    return launch(lti, sub, block, roles=(LEARNER,))


def csrf_of(page: requests.Response) -> str:
    found = html.fromstring(page.text).xpath("//input[@name='csrf_token']/@value")
    assert found, "no csrf_token on the page"
    return str(found[0])


def text_of(page: requests.Response) -> str:
    return " ".join(html.fromstring(page.text).text_content().split())


def errors_of(page: requests.Response) -> list[str]:
    tree = html.fromstring(page.text)
    return [" ".join(li.text_content().split()) for li in tree.xpath("//div[@id='erreurs']//li")]


@cache
def _plugins() -> dict[str, Any]:
    return dict(load_plugins())


def criteria(block: str, version: str = "RNCP41351", certification: str = "CRCA") -> list[str]:
    plugin = _plugins()[certification]
    return [c.id for c in plugin.referential(version).block(block).criteria()]


def verdict_form(
    ids: list[str], verdict: str = "met", role: str | None = None, **overrides: str
) -> list[tuple[str, str]]:
    """The grading form's fields: one verdict per criterion, ``overrides`` by criterion id."""
    fields = [(f"verdict-{cid}", overrides.get(cid, verdict)) for cid in ids]
    if role:
        fields.append(("jury_role", role))
    return fields


def paths(assessment_id: int, submission_id: int) -> dict[str, str]:
    base = f"/a/{assessment_id}/submissions/{submission_id}"
    return {
        "grade": f"{base}/grade",
        "save": f"{base}/evaluation",
        "sign": f"{base}/evaluation/sign",
        "decision": f"{base}/decision",
        "dashboard": f"/a/{assessment_id}/dashboard",
    }


def other_platform(lti: LtiHarness, client_id: str = "ltiservice-other-client") -> int:
    """Another LMS registration, in another organisation, the peer can launch through."""
    return lti.register_platform("of-autre", client_id, "Autre Open edX")


def use_client(lti: LtiHarness, client_id: str) -> None:
    """Point the peer's one tool registration at another client id."""
    lti.use_client(client_id)
