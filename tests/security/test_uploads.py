"""Hostile uploads through the learner form, beyond tests/assessments/test_learner.py.

That file already proves: oversized, renamed executable, .docx holding a PDF, `../` and `..\\`
names, zero-byte, wrong extension, too many files for the assessment. Here: absolute paths,
NUL and bidi tricks sent over real multipart, double and upper-case extensions, a request over
the global size cap, a flood of parts, and zip bombs disguised as office files (the sniffing
opens zips). Each is refused and leaves no row and no file, not even a temporary one.
"""

from __future__ import annotations

import html
import io
import os
import resource
import zipfile
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from ltiservice import db
from ltiservice.models import SubmissionFile
from tests.assessments.learner_support import Learner, launch_learner, messages_of, pdf_bytes, place
from tests.support.lti_harness import LtiHarness

pytestmark = pytest.mark.peer

ODT = "application/vnd.oasis.opendocument.text"


def _leftovers(lti: LtiHarness) -> list[str]:
    root = Path(lti.live.app.config["SETTINGS"].upload_dir)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _rows(lti: LtiHarness) -> int:
    with lti.live.app.app_context():
        return int(db.session().scalar(select(func.count()).select_from(SubmissionFile)) or 0)


def _send(
    learner: Learner, assessment_id: int, parts: list[tuple[str, bytes]]
) -> requests.Response:
    files = [("files", (name, data, "application/octet-stream")) for name, data in parts]
    return learner.post(assessment_id, "/files", files=files, allow_redirects=True)


def _bomb(extension: str, megabytes: int) -> bytes:
    """A small zip whose one big member inflates to ``megabytes`` of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        if extension == ".odt":
            name = "mimetype"  # the member the ODF check reads
        else:
            package.writestr("[Content_Types].xml", "<Types/>")
            name = "word/document.xml"
        with package.open(name, "w", force_zip64=True) as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(megabytes):
                member.write(chunk)
    return buffer.getvalue()


HOSTILE_NAMES = [
    "/etc/passwd.pdf",
    "rapport\x00.pdf",
    "rapport\u202efdp.exe.pdf",  # right-to-left override hides the real order
    "..\u2215..\u2215etc\u2215passwd.pdf",  # division slash that looks like /
    "\u200b.pdf",  # zero-width space only
    "x" * 300 + "/.pdf",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_hostile_names_are_refused_over_multipart(lti: LtiHarness, name: str) -> None:
    assessment_id = place(lti)
    learner = launch_learner(lti)
    page = _send(learner, assessment_id, [(name, pdf_bytes())])

    assert page.status_code == 200
    assert any("refusé" in message for message in messages_of(page)), messages_of(page)
    assert _rows(lti) == 0 and _leftovers(lti) == []


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("rapport.pdf.exe", b"MZ\x90\x00", "type de fichier non accepté"),
        ("RAPPORT.PDF", b"MZ\x90\x00 executable", "ne correspond pas"),
        ("photo.png", b"%PDF-1.7 pdf pretending to be png", "ne correspond pas"),
        ("note.odt", b"PK\x03\x04 not really a zip", "ne correspond pas"),
    ],
)
def test_disguised_types_are_refused(lti: LtiHarness, name: str, data: bytes, why: str) -> None:
    assessment_id = place(lti)
    learner = launch_learner(lti)
    page = _send(learner, assessment_id, [(name, data)])

    assert any(why in message for message in messages_of(page)), messages_of(page)
    assert _rows(lti) == 0 and _leftovers(lti) == []


def test_a_request_over_the_global_cap_is_a_413_and_leaves_nothing(lti: LtiHarness) -> None:
    assessment_id = place(lti)
    learner = launch_learner(lti)
    cap = lti.live.app.config["MAX_CONTENT_LENGTH"]
    page = _send(learner, assessment_id, [("enorme.pdf", pdf_bytes(cap + 1024))])

    assert page.status_code == 413
    assert "« enorme.pdf » : le fichier dépasse la taille maximale de 1 Mo." in html.unescape(
        page.text
    )
    assert _rows(lti) == 0 and _leftovers(lti) == []


def test_a_flood_of_parts_is_refused_and_leaves_nothing(lti: LtiHarness) -> None:
    assessment_id = place(lti, max_files=3)
    learner = launch_learner(lti)
    page = _send(learner, assessment_id, [(f"p{i}.pdf", pdf_bytes(300)) for i in range(300)])

    assert page.status_code in (200, 413)
    assert _rows(lti) == 0 and _leftovers(lti) == []


@pytest.mark.parametrize("extension", [".odt", ".docx"])
def test_a_zip_bomb_is_refused_without_inflating_it(lti: LtiHarness, extension: str) -> None:
    assessment_id = place(lti)
    learner = launch_learner(lti)
    bomb = _bomb(extension, 400)
    assert len(bomb) < 1024 * 1024  # within the assessment's 1 Mo limit
    # The app runs in this process: its peak memory is ours (ru_maxrss is in KiB on Linux).
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    page = _send(learner, assessment_id, [(f"plan{extension}", bomb)])

    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert grown_mb < 100, f"peak memory grew by {grown_mb:.0f} MiB"
    if extension == ".odt":
        # Its `mimetype` member is not the ODF type: refused after reading a few bytes only.
        assert any("ne correspond pas" in m for m in messages_of(page)), messages_of(page)
        assert _rows(lti) == 0 and _leftovers(lti) == []
    else:
        # A .docx is checked by its member names only: never inflated, kept as handed in.
        assert _rows(lti) == 1 and len(_leftovers(lti)) == 1
    assert not [
        name
        for name in os.listdir(lti.live.app.config["SETTINGS"].upload_dir)
        if name.startswith(".upload-")
    ]
