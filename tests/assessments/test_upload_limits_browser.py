"""Refused uploads in headless Chromium: said where the learner is, with the server's words,
and nothing typed is lost — refused by the page's script, by the server's 413, or by a check
of the file itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ltiservice import db
from ltiservice.assessments import limits
from ltiservice.models import Submission, SubmissionFile
from tests.assessments.learner_support import COURSE, LINK, pdf_bytes, place
from tests.assessments.test_learner_browser import serious_violations
from tests.support.chromium import Chromium
from tests.support.lti_harness import LtiHarness

pytestmark = [pytest.mark.browser, pytest.mark.peer]

MB = 1024 * 1024
TYPED = "Analyse du dégât des eaux : responsabilités selon la convention IRSI."


def _open_case(lti: LtiHarness, chromium: Chromium, assessment_id: int) -> Any:
    started = lti.start(
        lti.user("learner-up", name="Léa Apprenante"), context=COURSE, resource_link=LINK, ags=True
    )
    page = chromium.context(third_party_cookies=True).pages[0]
    page.goto(started["launch_page_url"])
    page.wait_for_url(f"{lti.tool_url}/a/{assessment_id}?launch=*")
    return page


def _focused_id(page: Any) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def _draft(lti: LtiHarness) -> Submission | None:
    with lti.live.app.app_context():
        row = db.session().scalar(select(Submission))
        if row is not None:
            row.files  # noqa: B018 - loaded while the session is open
        return row


def _messages(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("#erreurs-fichiers p.error-text").all_inner_texts()]


def test_the_page_refuses_a_file_over_the_limit_before_sending_with_the_servers_words(
    lti: LtiHarness, chromium: Chromium, tmp_path: Path
) -> None:
    assessment_id = place(lti, max_file_mb=1)
    page = _open_case(lti, chromium, assessment_id)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.fill("#text", TYPED)
    big = tmp_path / "rapport complet.pdf"
    big.write_bytes(pdf_bytes(MB + 200_000))

    page.set_input_files("#files", str(big))
    page.wait_for_selector("#erreurs-fichiers:not([hidden])")

    expected = limits.too_big_message("rapport complet.pdf", 1)
    assert _messages(page) == [expected]
    assert _focused_id(page) == "erreurs-fichiers"
    assert page.get_attribute("#erreurs-fichiers", "role") == "alert"
    # Sending anyway is stopped too, by any button of the form; the text stays as typed.
    page.click("button[formaction$='/files']")
    page.click("button[value='confirm']")
    assert page.url.split("?")[0] == f"{lti.tool_url}/a/{assessment_id}"
    assert page.input_value("#text") == TYPED
    # Only the autosave's JSON posts (their URL names the launch) left the page: no form.
    assert [u for u in posts if "?launch=" not in u] == []
    with lti.live.app.app_context():
        assert db.session().scalar(select(SubmissionFile)) is None
    assert serious_violations(page) == []

    # A file within the limit clears the message and goes through.
    small = tmp_path / "rapport.pdf"
    small.write_bytes(pdf_bytes(4096))
    page.set_input_files("#files", str(small))
    assert page.is_hidden("#erreurs-fichiers")
    page.click("button[formaction$='/files']")
    page.wait_for_selector(".flash-success")
    draft = _draft(lti)
    assert draft is not None and draft.text == TYPED
    assert [f.filename for f in draft.files] == ["rapport.pdf"]


def test_a_send_the_server_refuses_as_too_large_comes_back_with_the_text_and_the_focus(
    lti: LtiHarness, chromium: Chromium, tmp_path: Path
) -> None:
    # A page whose script did not stop the file (loaded before the limit changed, say).
    assessment_id = place(lti, max_file_mb=50)
    page = _open_case(lti, chromium, assessment_id)
    page.evaluate(
        "var f = document.getElementById('submission-form');"
        "f.setAttribute('data-file-limit-bytes', '1e12');"
        "f.setAttribute('data-request-limit-bytes', '1e12');"
    )
    page.fill("#text", TYPED)
    big = tmp_path / "scan.pdf"
    big.write_bytes(pdf_bytes(25 * MB))
    page.set_input_files("#files", str(big))
    with page.expect_response(lambda r: r.url.endswith("/files"), timeout=60_000) as answer:
        page.click("button[formaction$='/files']")
    assert answer.value.status == 413
    page.wait_for_selector("#erreurs-fichiers:not([hidden])")

    assert _messages(page) == [limits.too_big_message("scan.pdf", 20)]
    assert _focused_id(page) == "erreurs-fichiers"
    assert page.input_value("#text") == TYPED
    draft = _draft(lti)
    assert draft is not None and draft.text == TYPED and draft.files == []
    assert serious_violations(page) == []


def test_a_file_refused_by_the_server_is_announced_at_the_file_field(
    lti: LtiHarness, chromium: Chromium, tmp_path: Path
) -> None:
    assessment_id = place(lti)
    page = _open_case(lti, chromium, assessment_id)
    page.fill("#text", TYPED)
    fake = tmp_path / "rapport.pdf"
    fake.write_bytes(b"MZ\x90\x00 not a pdf at all")
    page.set_input_files("#files", str(fake))
    page.click("button[formaction$='/files']")
    page.wait_for_url("**#erreurs-fichiers")
    page.wait_for_selector("#erreurs-fichiers:not([hidden])")

    assert _messages(page)[0].startswith("« rapport.pdf » : son contenu ne correspond pas")
    assert _focused_id(page) == "erreurs-fichiers"
    assert page.locator(".flash .flash-file-error").count() == 0  # not at the top of the page
    assert page.input_value("#text") == TYPED
    assert serious_violations(page) == []
