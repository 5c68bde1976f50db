"""File storage on its own: atomic writes, content sniffing, names, a full disk."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest

from ltiservice.assessments import files
from tests.assessments.learner_support import docx_bytes, pdf_bytes, png_bytes

ALLOWED = [".pdf", ".docx", ".odt", ".png", ".txt"]


def _store(tmp_path: Path, name: str, data: bytes, max_bytes: int = 1024 * 1024):
    return files.store_upload(
        io.BytesIO(data),
        name,
        upload_dir=str(tmp_path),
        max_bytes=max_bytes,
        allowed_extensions=ALLOWED,
    )


def _everything(tmp_path: Path) -> list[Path]:
    return [p for p in tmp_path.rglob("*") if p.is_file()]


def _odt(mimetype: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("mimetype", mimetype)
        package.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("note.pdf", pdf_bytes()),
        ("plan.docx", docx_bytes()),
        ("texte.odt", _odt("application/vnd.oasis.opendocument.text")),
        ("photo.PNG", png_bytes()),
        ("notes.txt", "Déclaration de sinistre\n".encode()),
    ],
)
def test_good_files_are_stored_under_a_random_key_with_size_and_sha256(tmp_path, name, data):
    stored = _store(tmp_path, name, data)
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    [path] = _everything(tmp_path)
    assert path == tmp_path / stored.storage_key[:2] / stored.storage_key
    assert path.read_bytes() == data
    assert stored.filename == name


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("faux.pdf", b"<html>not a pdf</html>"),
        ("faux.docx", _odt("application/vnd.oasis.opendocument.text")),  # a zip, wrong kind
        ("faux.odt", _odt("application/vnd.oasis.opendocument.spreadsheet")),
        ("faux.odt", docx_bytes()),
        ("faux.png", b"\xff\xd8\xff\xe0 a jpeg"),
        ("faux.txt", b"MZ\x00\x00binary"),
    ],
)
def test_content_that_does_not_match_the_extension_is_refused(tmp_path, name, data):
    with pytest.raises(files.FileRefusedError, match="son contenu ne correspond pas"):
        _store(tmp_path, name, data)
    assert _everything(tmp_path) == []


def test_oversized_upload_stops_and_leaves_nothing(tmp_path):
    with pytest.raises(files.FileRefusedError, match="dépasse la taille maximale de 1 Mo"):
        _store(tmp_path, "gros.pdf", pdf_bytes(1024 * 1024 + 1))
    assert _everything(tmp_path) == []


@pytest.mark.parametrize(
    "raw", ["../x.pdf", "a/b.pdf", "C:\\tmp\\x.pdf", "..", "x\x00.pdf", "x\u202e.pdf", "  "]
)
def test_dangerous_names_are_refused(raw):
    with pytest.raises(files.FileRefusedError):
        files.clean_filename(raw)


def test_french_names_are_kept_for_display():
    assert files.clean_filename(" Étude  cas n°2 \u2013 déclaration.pdf ") == (
        "Étude  cas n°2 \u2013 déclaration.pdf"
    )
    long = "é" * 300 + ".pdf"
    cleaned = files.clean_filename(long)
    assert len(cleaned) == 200 and cleaned.endswith(".pdf")


def test_a_full_disk_gives_a_french_error_and_no_partial_file(tmp_path, monkeypatch):
    real_fsync = os.fsync

    def full(fd: int) -> None:
        # The disk fills while the data is flushed: the temp file exists, half written.
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(files.StorageFullError) as caught:
        _store(tmp_path, "rapport.pdf", pdf_bytes(200_000))
    monkeypatch.setattr(files.os, "fsync", real_fsync)
    assert caught.value.status == 507
    assert "« rapport.pdf » n'a pas pu être enregistré : l'espace de stockage" in (
        caught.value.message
    )
    assert _everything(tmp_path) == []


def test_storage_keys_cannot_reach_outside_the_upload_dir(tmp_path):
    with pytest.raises(ValueError):
        files.path_of(str(tmp_path), "../../etc/passwd")
