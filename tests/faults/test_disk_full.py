"""A real full disk (a small tmpfs as the upload folder) while a learner uploads a file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ltiservice import db
from ltiservice.models import Submission, SubmissionFile
from tests.assessments.learner_support import launch_learner, messages_of, pdf_bytes, place

pytestmark = pytest.mark.peer

SIZE_KB = 512


@pytest.fixture
def small_disk(lti):
    """The live app's upload folder on a 512 KB tmpfs (root only: CI runs as root)."""
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the disk-full test as root (mount)", pytrace=False)
        pytest.skip("mounting a small tmpfs needs root")
    folder = Path(lti.live.app.config["SETTINGS"].upload_dir)
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE_KB}k", "tmpfs", str(folder)], check=True
    )
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def _everything_on(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_an_upload_that_fills_the_disk_is_refused_and_loses_nothing(lti, small_disk):
    assessment_id = place(lti, max_file_mb=1)
    learner = launch_learner(lti)
    first = pdf_bytes(300_000)
    kept = learner.post(
        assessment_id,
        "/files",
        {"text": "Mon brouillon"},
        files=[("files", ("premier.pdf", first, "application/pdf"))],
    )
    assert kept.status_code == 200
    before = _everything_on(small_disk)
    assert len(before) == 1 and before[0].read_bytes() == first

    # 300 KB more cannot fit in what remains of 512 KB.
    page = learner.post(
        assessment_id,
        "/files",
        files=[("files", ("second.pdf", pdf_bytes(300_000), "application/pdf"))],
    )
    assert page.status_code == 200
    assert any("l'espace de stockage du service est plein" in m for m in messages_of(page))
    # No partial file, the first file intact, the draft's text and rows as they were.
    assert _everything_on(small_disk) == before
    assert before[0].read_bytes() == first
    with lti.live.app.app_context():
        session = db.session()
        assert session.scalar(select(func.count(SubmissionFile.id))) == 1
        assert session.scalar(select(Submission.text)) == "Mon brouillon"
