"""Helpers of the learner tests: assessments placed directly, learners launched for real."""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any

import requests
from lxml import html
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import Assessment, Course, Decision, Platform, Submission
from tests.support.browser import Browser, launch_id_of
from tests.support.lti_harness import LEARNER, LtiHarness

COURSE = {"id": "course-1", "title": "CQP CRCA 2026", "label": "CRCA"}
LINK = {"id": "link-1", "title": "Étude de cas B2B"}
OTHER_CLIENT_ID = "ltiservice-other-client"


def place(
    lti: LtiHarness,
    *,
    platform_id: int | None = None,
    context_id: str = "course-1",
    resource_link_id: str = "link-1",
    **overrides: Any,
) -> int:
    """An assessment placed on a resource link, as deep linking would have stored it."""
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
        values: dict[str, Any] = {
            "organisation_id": platform.organisation_id,
            "platform_id": platform.id,
            "course_id": course.id,
            "resource_id": f"res-{platform.id}-{context_id}-{resource_link_id}",
            "resource_link_id": resource_link_id,
            "title": "Étude de cas B2B",
            "certification_code": "CRCA",
            "referential_version": "RNCP41351",
            "block_code": "B2B",
            "case_id": "crca-b2b-degat-des-eaux-irsi",
            "deadline": datetime.now(UTC) + timedelta(days=30),
            "allowed_extensions": [".pdf", ".docx", ".png", ".odt"],
            "max_file_mb": 1,
            "max_files": 3,
            "max_attempts": 2,
            "score_maximum": 20.0,
        }
        values.update(overrides)
        assessment = Assessment(**values)
        session.add(assessment)
        session.commit()
        return assessment.id


@dataclass
class Learner:
    """A learner's browser, on the page a launch led to."""

    browser: Browser
    page: requests.Response
    launch: str
    base: str

    def url(self, assessment_id: int, tail: str = "") -> str:
        return f"{self.base}/a/{assessment_id}{tail}"

    def get(self, assessment_id: int, tail: str = "", **kwargs: Any) -> requests.Response:
        params = {"launch": self.launch, **kwargs.pop("params", {})}
        return self.browser.get(self.url(assessment_id, tail), params=params, **kwargs)

    @property
    def csrf(self) -> str:
        return csrf_of(self.page)

    def post(
        self, assessment_id: int, tail: str, data: dict[str, Any] | None = None, **kwargs: Any
    ) -> requests.Response:
        fields = {"launch": self.launch, "csrf_token": self.csrf, **(data or {})}
        return self.browser.post(self.url(assessment_id, tail), data=fields, **kwargs)


def launch_learner(
    lti: LtiHarness,
    sub: str = "learner-1",
    *,
    context: dict[str, Any] | None = None,
    link: dict[str, Any] | None = None,
    roles: tuple[str, ...] = (LEARNER,),
    browser: Browser | None = None,
) -> Learner:
    """A full launch; pass ``browser`` to launch again in the same browser (same cookies)."""
    browser = browser or lti.browser()
    page = lti.launch(
        lti.user(sub, *roles, name=f"Apprenant {sub}"),
        browser=browser,
        context=context or COURSE,
        resource_link=link or LINK,
        ags=True,
    )
    assert page.status_code == 200, page.text[:800]
    return Learner(browser, page, launch_id_of(page.url), lti.tool_url)


def csrf_of(page: requests.Response) -> str:
    found = html.fromstring(page.text).xpath("//input[@name='csrf_token']/@value")
    assert found, "no csrf_token on the page"
    return str(found[0])


def messages_of(page: requests.Response) -> list[str]:
    """The page's messages: the flash area, then the refusals beside the file field."""
    tree = html.fromstring(page.text)
    found = tree.xpath(
        "//div[@class='flash']/p | //div[@id='erreurs-fichiers']/p[@class='error-text']"
    )
    return [" ".join(p.text_content().split()) for p in found]


def text_of(page: requests.Response) -> str:
    return " ".join(html.fromstring(page.text).text_content().split())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pdf_bytes(size: int = 2000) -> bytes:
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"
    tail = b"\n%%EOF\n"
    data = head + b"%" + b"x" * max(size - len(head) - len(tail) - 1, 0) + tail
    assert len(data) == size or size < len(head) + len(tail) + 1
    return data


def docx_bytes() -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def png_bytes() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def launch_ids(page: requests.Response) -> list[str]:
    return re.findall(r"launch=([A-Za-z0-9_\-]+)", page.text)


def second_platform(lti: LtiHarness) -> int:
    """Another LMS registration (another organisation) the peer will launch through."""
    return lti.register_platform("of-autre", OTHER_CLIENT_ID, "Autre Open edX")


def use_client(lti: LtiHarness, client_id: str) -> None:
    """Point the peer's one tool registration at another client id."""
    lti.use_client(client_id)


def decide(lti: LtiHarness, submission_id: int, *, acquired: bool) -> None:
    """The jury's decision on an attempt, stored as signing it would (status decided)."""
    with lti.live.app.app_context():
        session = db.session()
        submission = session.get(Submission, submission_id)
        assert submission is not None
        assessment = submission.assessment
        session.add(
            Decision(
                organisation_id=assessment.organisation_id,
                submission_id=submission.id,
                person_id=submission.person_id,
                certification_code=assessment.certification_code,
                referential_version=assessment.referential_version,
                block_code=assessment.block_code,
                verdicts={},
                competency_results=[],
                block_acquired=acquired,
                score_given=20.0 if acquired else 5.0,
                score_maximum=20.0,
                evaluators=[],
            )
        )
        submission.status = "decided"
        session.commit()
