"""Trainers' pages reflow (WCAG 1.4.10): no horizontal scroll from 320 px to 1400 px, in a
688 px iframe of another site, and at 200 % / 400 % zoom, with axe-core finding nothing.

Browser zoom is a narrower CSS viewport: 200 % of a 688 px frame is 344 CSS px, 400 % of a
1280 px window is 320 CSS px, so the widths below cover both zoom levels.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.evaluations.axe import all_violations, install_axe
from tests.evaluations.support import (
    COURSE,
    criteria,
    hand_in,
    launch,
    link,
    paths,
    place,
    verdict_form,
)
from tests.lti.test_iframe_browser import register_lms_page
from tests.support.chromium import Chromium, FramingSite
from tests.support.lti_harness import INSTRUCTOR, LtiHarness

pytestmark = [pytest.mark.browser, pytest.mark.peer]

WIDTHS = (320, 344, 375, 688, 1000, 1400)
FRAME_WIDTH = 688
LONG_TEXT = (
    "Analyse du sinistre dégât des eaux : garanties, franchise, convention IRSI. " * 40
    + "https://exemple.fr/un/tres/long/chemin/sans/espace/ni/coupure/possible/" * 3
)


def _document_width(page: Any) -> tuple[int, int]:
    return page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )


def _graded_submission(lti: LtiHarness) -> tuple[int, int]:
    """CRCA B1 (42 criteria) handed in and signed by both evaluators, one divergence."""
    assessment = place(lti, "B1")
    submission = hand_in(lti, assessment, "learner-1", text=LONG_TEXT)
    ids = criteria("B1")
    url = paths(assessment, submission)
    for sub, role, overrides in (
        ("eval-a", "hierarchy", {}),
        ("eval-b", "other_service", {ids[3]: "not_met"}),
    ):
        visitor = launch(lti, sub, "B1")
        visitor.page = visitor.get(url["grade"])
        answer = visitor.post(url["sign"], verdict_form(ids, role=role, **overrides))
        assert answer.status_code == 200 and "Évaluation signée" in answer.text
    return assessment, submission


def _pages(lti: LtiHarness, assessment: int, submission: int, launch_id: str) -> dict[str, str]:
    url = paths(assessment, submission)
    return {
        name: f"{lti.tool_url}{url[name]}?launch={launch_id}"
        for name in ("dashboard", "grade", "decision")
    }


def test_trainer_pages_reflow_at_every_width_and_in_the_iframe(
    lti: LtiHarness, chromium: Chromium, framing_site: FramingSite
) -> None:
    assessment, submission = _graded_submission(lti)
    widths: dict[str, dict[int, tuple[int, int]]] = {}
    problems: list[str] = []

    # A third evaluator's own browser, in a plain window at each width.
    started = lti.start(
        lti.user("eval-c", INSTRUCTOR, name="Évaluateur C"),
        context=COURSE,
        resource_link=link("B1"),
        ags=True,
    )
    context = chromium.context(third_party_cookies=True)
    install_axe(context)
    page = context.pages[0]
    page.goto(started["launch_page_url"])
    page.wait_for_url(f"{lti.tool_url}/a/*/dashboard?launch=*")
    launch_id = page.url.split("launch=")[1]
    for name, url in _pages(lti, assessment, submission, launch_id).items():
        page.goto(url)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            widths.setdefault(name, {})[width] = _document_width(page)
            problems += [f"{name} @ {width}: {v}" for v in all_violations(page)]

    # The placement page, from a deep-linking launch.
    started = lti.start(
        lti.user("eval-c", INSTRUCTOR, name="Évaluateur C"),
        context=COURSE,
        message_type="LtiDeepLinkingRequest",
        deep_linking={"accept_types": ["ltiResourceLink"], "data": "reflow"},
    )
    page.goto(started["launch_page_url"])
    page.wait_for_url(f"{lti.tool_url}/placement/picker?launch=*")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        widths.setdefault("placement", {})[width] = _document_width(page)
        problems += [f"placement @ {width}: {v}" for v in all_violations(page)]

    # The grading page inside a 688 px iframe of another site, as Moodle shows it.
    register_lms_page(lti, framing_site)
    framing_site.pages["/embed688"] = lambda query: (
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>Cours</title></head>"
        f"<body style='margin:0'><iframe name='activity' title='Activité' src='{query['src']}'"
        f" width='{FRAME_WIDTH}' height='700' style='border:0'></iframe></body></html>"
    )
    started = lti.start(
        lti.user("eval-c", INSTRUCTOR, name="Évaluateur C"),
        context=COURSE,
        resource_link=link("B1"),
        ags=True,
        return_url=f"{framing_site.origin}/course",
    )
    page.set_viewport_size({"width": 1000, "height": 800})
    page.goto(f"{framing_site.url}/embed688?src={quote(started['launch_page_url'], safe='')}")
    frame = page.frame(name="activity")
    assert frame is not None
    frame.wait_for_url(f"{lti.tool_url}/a/*/dashboard?launch=*")
    frame_launch = frame.url.split("launch=")[1]
    for name, url in _pages(lti, assessment, submission, frame_launch).items():
        frame.goto(url)
        widths.setdefault(f"{name} (iframe)", {})[FRAME_WIDTH] = _document_width(frame)
        problems += [f"{name} in the iframe: {v}" for v in all_violations(frame)]

    print("\nDocument width / viewport width (CSS px):")
    for name, by_width in widths.items():
        print(f"  {name:20}", "  ".join(f"{w}: {s}/{c}" for w, (s, c) in by_width.items()))
    overflowing = [
        f"{name} @ {width}: {scroll} > {client}"
        for name, by_width in widths.items()
        for width, (scroll, client) in by_width.items()
        if scroll > client
    ]
    assert overflowing == []
    assert problems == []
