"""The suite-wide log scan finds what it must (a scan that finds nothing proves nothing)."""

from __future__ import annotations

from tests.support.log_scan import _names, findings


def test_the_scan_catches_names_emails_tokens_and_keys():
    lines = [
        ("ltiservice.lti", "launch accepted for Camille Martin"),
        ("ltiservice.x", "sent to camille@alpha.example"),
        ("werkzeug", "GET /x?id_token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig"),
        ("ltiservice.y", "Authorization: Bearer abcdefgh12345678"),
        ("ltiservice.z", "-----BEGIN PRIVATE KEY-----"),
        ("ltiservice.ok", "launch lti1p3-launch-1234 accepted (learner)"),
        ("other.library", "camille@alpha.example"),  # not ours: not scanned
    ]
    hits = findings(lines, {"Camille Martin"})
    assert len(hits) == 5
    assert all("ltiservice.ok" not in hit and "other.library" not in hit for hit in hits)


def test_the_names_come_from_the_tests_themselves():
    assert {"Camille Martin", "Inès Moreau"} <= _names()
