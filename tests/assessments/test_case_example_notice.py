"""Shipped cases are examples written for the product, and the learner's page says so."""

from __future__ import annotations

import pytest
from lxml import html

from tests.assessments.learner_support import launch_learner, place

pytestmark = pytest.mark.peer

NOTICE = "Sujet d'exemple rédigé pour ltiservice, non officiel"


def _notes(page_text: str) -> list[str]:
    tree = html.fromstring(page_text)
    return [" ".join(n.text_content().split()) for n in tree.xpath("//*[@role='note']")]


def test_the_learner_sees_that_a_shipped_case_is_an_unofficial_example(lti):
    place(lti)  # the CRCA B2B case the plugin ships
    page = launch_learner(lti).page

    # A visible text note next to the case, not a colour alone.
    assert any(note.startswith(NOTICE) for note in _notes(page.text))
    tree = html.fromstring(page.text)
    [section] = tree.xpath("//section[@aria-labelledby='le-cas']")
    assert NOTICE in " ".join(section.text_content().split())


def test_a_trainers_own_case_carries_no_example_notice(lti):
    place(lti, case_id=None, custom_case={"title": "Sinistre local", "statement": "Un sinistre."})
    page = launch_learner(lti).page

    assert "Un sinistre." in page.text
    assert not any(note.startswith(NOTICE) for note in _notes(page.text))
