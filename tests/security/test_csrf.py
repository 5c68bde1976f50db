"""CSRF on every state-changing route: no token, a forged one, or another launch's -> 400.

Every POST/PUT/PATCH/DELETE of the url_map (but the LTI protocol endpoints, which carry their
own proof: state cookie, signed JWT) must have a case here. Each refused request leaves the
database and the upload folder exactly as they were; then the same request with the right
token goes through, which proves it was the token that stopped it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from ltiservice import db
from ltiservice.models import (
    Assessment,
    Decision,
    Evaluation,
    OutboxMessage,
    Submission,
    SubmissionFile,
)
from tests.evaluations.support import criteria, verdict_form
from tests.security.world import COURSE_2, LINK_2, Actor, World, build_world, launch, pdf
from tests.support.browser import form_of
from tests.support.lti_harness import INSTRUCTOR, LtiHarness

#: The LTI protocol's own POSTs: a signed id_token and the state cookie are their proof.
# without_link only refuses (403, nothing stored): there is no state to protect.
PROTOCOL = {"lti.login", "lti.launch", "lti_registration.finish", "lti_registration.without_link"}
CHANGING = {"POST", "PUT", "PATCH", "DELETE"}

PLACEMENT = {
    "block": "CRCA:B2B",
    "case": "",
    "title": "Placement par CSRF",
    "deadline": "2030-06-30T18:00",
    "allowed_extensions": [".pdf"],
    "max_file_mb": "5",
    "max_attempts": "2",
    "score_maximum": "20",
}


@dataclass(frozen=True)
class Case:
    """One state-changing request: who sends it, and how (form or JSON)."""

    endpoint: str
    actor: str
    path: Callable[[World], str]
    data: Callable[[World], Any] = lambda w: {}
    files: Callable[[World], list[Any]] | None = None
    json: bool = False


def _a(tail: str) -> Callable[[World], str]:
    return lambda w: f"/a/{w.assessments['X']}{tail.format(**w.ids)}"


def _grading(world: World) -> list[tuple[str, str]]:
    return verdict_form(criteria("B2B"), "met", role="hierarchy")


CASES = (
    Case("assessments.save_draft", "owner", _a("/draft"), lambda w: {"text": "CSRF forme"}),
    Case(
        "assessments.save_draft", "owner", _a("/draft"), lambda w: {"text": "CSRF json"}, json=True
    ),
    Case(
        "assessments.upload_files",
        "owner",
        _a("/files"),
        files=lambda w: [("files", ("csrf.pdf", pdf("csrf"), "application/pdf"))],
    ),
    Case("assessments.delete_file", "owner", _a("/files/{draft_file}/delete")),
    Case("assessments.submit", "owner", _a("/submit")),
    Case("assessments.new_attempt", "owner", _a("/attempts")),
    Case(
        "evaluations.save_evaluation",
        "trainer",
        _a("/submissions/{submission}/evaluation"),
        _grading,
    ),
    Case(
        "evaluations.save_evaluation",
        "trainer",
        _a("/submissions/{submission}/evaluation"),
        lambda w: {"verdicts": {criteria("B2B")[0]: "met"}, "jury_role": "hierarchy"},
        json=True,
    ),
    Case(
        "evaluations.sign_evaluation",
        "trainer",
        _a("/submissions/{submission}/evaluation/sign"),
        _grading,
    ),
    Case(
        "evaluations.decision",
        "trainer",
        _a("/submissions/{submission}/decision"),
        lambda w: {"resolution": "Accord"},
    ),
    Case("placement.picker", "deep_linker", lambda w: "/placement/picker", lambda w: PLACEMENT),
    Case(
        "placement.configure", "configurer", lambda w: "/placement/configure", lambda w: PLACEMENT
    ),
)


# Routes whose CSRF refusal is proved next to their own actor, who is not in this world.
COVERED_ELSEWHERE = {
    # an LMS administrator: tests/outbox/test_admin_deliveries.py
    "admin.retry": "test_a_retry_without_this_launchs_token_changes_nothing",
    # a jury secretary (LMS administrator): tests/certification/test_jury_chain.py
    **dict.fromkeys(
        (
            "jury.create_session",
            "jury.add_member",
            "jury.remove_member",
            "jury.present",
            "jury.decide",
            "jury.withdraw",
            "jury.sign",
            "jury.accrochage",
        ),
        "test_every_jury_change_needs_this_launch_s_token",
    ),
    # an LMS administrator: tests/web/test_console.py
    **dict.fromkeys(
        (
            "console.create_link",
            "console.revoke_link",
            "console.approve_platform",
            "console.add_lrs",
            "console.test_lrs",
            "console.set_lrs_state",
        ),
        "test_every_console_change_needs_this_launch_s_token",
    ),
}


def test_every_state_changing_route_has_a_csrf_case(app: Flask) -> None:
    changing = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if (rule.methods or set()) & CHANGING
        and rule.endpoint not in PROTOCOL
        and not rule.endpoint.startswith("demo.")
    }
    assert changing == {case.endpoint for case in CASES} | set(COVERED_ELSEWHERE)


def _send(world: World, case: Case, actor: Actor, token: str | None) -> requests.Response:
    """The case's request from ``actor``'s browser, with ``token`` (None: no token at all)."""
    assert actor.browser is not None
    url = f"{actor.base}{case.path(world)}"
    if case.json:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["X-CSRF-Token"] = token
        return actor.browser.post(
            url,
            params={"launch": actor.launch},
            json=case.data(world),
            headers=headers,
            allow_redirects=False,
        )
    fields = case.data(world)
    items = list(fields.items()) if isinstance(fields, dict) else list(fields)
    data: list[tuple[str, Any]] = [("launch", actor.launch)]
    if token is not None:
        data.append(("csrf_token", token))
    data.extend(items)
    files = case.files(world) if case.files else None
    return actor.browser.post(url, data=data, files=files, allow_redirects=False)


def _state(world: World) -> dict[str, Any]:
    """Everything a request could have changed: row counts, texts, and the upload folder."""
    with world.app.app_context():
        session = db.session()
        counts = {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (
                Assessment,
                Submission,
                SubmissionFile,
                Evaluation,
                Decision,
                OutboxMessage,
            )
        }
        texts = sorted((s.id, s.status, s.text or "") for s in session.scalars(select(Submission)))
    upload_dir = str(world.app.config["SETTINGS"].upload_dir)
    stored = sorted(
        os.path.join(root, name) for root, _, names in os.walk(upload_dir) for name in names
    )
    return {"counts": counts, "texts": texts, "files": stored}


def _extra_actors(world: World) -> None:
    lti = world.lti
    owner = world.actors["owner"]
    # A second launch in the owner's own browser: its token must not serve the first.
    launch(
        world, "owner_elsewhere", "learner-1", context=COURSE_2, link=LINK_2, browser=owner.browser
    )
    picker = lti.browser()
    page = lti.launch(
        lti.user("trainer-dl", INSTRUCTOR),
        browser=picker,
        message_type="LtiDeepLinkingRequest",
        deep_linking={"accept_types": ["ltiResourceLink"], "data": "opaque"},
    )
    assert page.status_code == 200, page.text[:500]
    _, fields = form_of(page)
    world.actors["deep_linker"] = Actor(
        "deep_linker", picker, fields["launch"], fields["csrf_token"], lti.tool_url, page
    )
    launch(
        world,
        "configurer",
        "trainer-9",
        role=INSTRUCTOR,
        link={"id": "link-unplaced", "title": "Activité créée à la main"},
    )
    assert "/placement/configure" in world.actors["configurer"].page.url  # type: ignore[union-attr]


def _wrong_tokens(world: World, actor: Actor) -> dict[str, str | None]:
    others = [a for name, a in world.actors.items() if a.csrf and a.launch != actor.launch]
    same_browser = next(
        (a.csrf for a in others if a.browser is actor.browser), world.actors["other_course"].csrf
    )
    another_person = next(a.csrf for a in others if a.browser is not actor.browser)
    return {
        "missing": None,
        "empty": "",
        "forged": "x" * len(actor.csrf),
        "truncated": actor.csrf[:-1],
        # Headers arrive as latin-1, form fields as UTF-8: a non-ASCII token must be a 400.
        "non_ascii": actor.csrf[:-1] + "é",
        "another_person": another_person,
        "another_launch_same_browser": same_browser,
    }


@pytest.mark.peer
def test_state_changes_need_this_launch_token(lti: LtiHarness) -> None:
    world = build_world(lti)
    _extra_actors(world)
    before = _state(world)

    refused = []
    for case in CASES:
        actor = world.actors[case.actor]
        for label, token in _wrong_tokens(world, actor).items():
            response = _send(world, case, actor, token)
            if response.status_code != 400:
                refused.append(f"{case.endpoint} json={case.json} {label}: {response.status_code}")
            elif case.json and response.json().get("error") != "http_400":
                refused.append(f"{case.endpoint} json {label}: {response.text[:80]}")
    assert refused == []
    assert _state(world) == before

    # The very same requests with the right token are accepted: the token was the reason.
    accepted = {
        f"{case.endpoint} json={case.json}": _send(
            world, case, world.actors[case.actor], world.actors[case.actor].csrf
        ).status_code
        for case in CASES
    }
    assert all(status != 400 and status < 500 for status in accepted.values()), accepted
    assert _state(world) != before
