"""Files handed in by learners: checked, hashed and written atomically under a random key.

An upload streams into a temporary file inside the upload folder (same file system, so the
final `os.replace` is atomic), its size and SHA-256 computed on the way. Only then is its content
sniffed: a file whose bytes do not match its extension is refused, whatever it is called.
Nothing half-written ever sits under a storage key.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ltiservice.assessments.limits import too_big_message
from ltiservice.errors import ServiceError

CHUNK = 64 * 1024

#: Extension -> content type, for every type whose content we know how to check.
CONTENT_TYPES: dict[str, str] = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
}

# The folder an OOXML package must contain, per extension.
_OOXML_PARTS = {".docx": "word/", ".xlsx": "xl/", ".pptx": "ppt/"}
_ODF = {".odt", ".ods", ".odp"}
_MAX_NAME = 200
_MIMETYPE_MAX = 128  # an ODF `mimetype` member is a short ASCII string
_KEY = re.compile(r"^[0-9a-f]{32}$")


class FileRefusedError(ServiceError):
    """One file refused; the message names the file and says why, in French."""

    status = 422
    code = "file_refused"
    title = "Fichier refusé"


class StorageFullError(ServiceError):
    """The disk is full: nothing was kept, the learner may retry later."""

    status = 507
    code = "storage_full"
    title = "Espace de stockage insuffisant"


@dataclass(frozen=True)
class StoredFile:
    """A file safely on disk under ``storage_key``."""

    filename: str
    storage_key: str
    content_type: str
    size: int
    sha256: str


def clean_filename(raw: str | None) -> str:
    """The learner's file name, kept for display (accents included), or a refusal.

    Names carrying a path, a parent reference or control characters are refused rather than
    "fixed": browsers never send them, so such a name is a forged request.
    """
    name = unicodedata.normalize("NFC", (raw or "").strip())
    if not name:
        raise FileRefusedError("Un fichier sans nom a été refusé.")
    shown = printable_name(name)
    if "/" in name or "\\" in name or name in {".", ".."} or name.startswith(".."):
        raise FileRefusedError(
            f"« {shown} » : nom de fichier refusé (il ne doit pas contenir de chemin)."
        )
    if any(unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} for char in name):
        raise FileRefusedError(f"« {shown} » : nom de fichier refusé (caractères de contrôle).")
    if len(name) > _MAX_NAME:
        stem, ext = os.path.splitext(name)
        name = stem[: _MAX_NAME - len(ext)] + ext
    return name


def printable_name(name: str) -> str:
    """A name safe to echo in a message: control characters dropped, length capped."""
    return "".join(c for c in name if unicodedata.category(c)[0] != "C")[:80]


def extension_of(filename: str) -> str:
    return os.path.splitext(filename)[1].lower()


def accepted_extensions(allowed: Iterable[str]) -> list[str]:
    """The assessment's extensions we can check (all checkable ones when it lists none)."""
    wanted = [ext.lower() if ext.startswith(".") else f".{ext.lower()}" for ext in allowed]
    return [ext for ext in wanted if ext in CONTENT_TYPES] or sorted(set(CONTENT_TYPES))


def store_upload(
    stream: IO[bytes],
    filename: str,
    *,
    upload_dir: str,
    max_bytes: int,
    allowed_extensions: Iterable[str],
) -> StoredFile:
    """Check, hash and atomically store one upload; raise `FileRefusedError` otherwise."""
    extension = extension_of(filename)
    allowed = accepted_extensions(allowed_extensions)
    if extension not in allowed:
        raise FileRefusedError(
            f"« {filename} » : type de fichier non accepté (formats acceptés : "
            f"{', '.join(allowed)})."
        )
    root = Path(upload_dir)
    root.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=".upload-", dir=root)
    try:
        size, digest = _copy(stream, handle, filename, max_bytes)
        if size == 0:
            raise FileRefusedError(f"« {filename} » : le fichier est vide.")
        if not _content_matches(temp_name, extension):
            raise FileRefusedError(
                f"« {filename} » : son contenu ne correspond pas à un fichier {extension} "
                "(fichier renommé ou endommagé)."
            )
        key = secrets.token_hex(16)
        final = path_of(upload_dir, key)
        final.parent.mkdir(exist_ok=True)
        os.replace(temp_name, final)
        _fsync_dir(final.parent)
    except OSError as exc:
        _discard(temp_name)
        if exc.errno == errno.ENOSPC:
            raise StorageFullError(
                f"« {filename} » n'a pas pu être enregistré : l'espace de stockage du service "
                "est plein. Réessayez plus tard ou prévenez votre formateur."
            ) from exc
        raise
    except BaseException:
        _discard(temp_name)
        raise
    return StoredFile(filename, key, CONTENT_TYPES[extension], size, digest)


def _copy(stream: IO[bytes], handle: int, filename: str, max_bytes: int) -> tuple[int, str]:
    """Stream into the open temp file; size and SHA-256 on the way; fsync before returning."""
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(handle, "wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise FileRefusedError(too_big_message(filename, max_bytes / (1024 * 1024)))
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size, digest.hexdigest()


def _content_matches(path: str, extension: str) -> bool:
    """Whether the bytes are what the extension claims (magic bytes, package structure)."""
    with open(path, "rb") as handle:
        head = handle.read(16)
    if extension == ".pdf":
        return head.startswith(b"%PDF-")
    if extension == ".png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if extension in {".jpg", ".jpeg"}:
        return head.startswith(b"\xff\xd8\xff")
    if extension == ".gif":
        return head[:6] in {b"GIF87a", b"GIF89a"}
    if extension == ".webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if extension in _OOXML_PARTS or extension in _ODF:
        return _package_matches(path, extension)
    if extension in {".txt", ".csv"}:
        return _is_text(path)
    return False


def _package_matches(path: str, extension: str) -> bool:
    """OOXML: `[Content_Types].xml` and its main folder; ODF: the `mimetype` entry."""
    try:
        with zipfile.ZipFile(path) as package:
            names = package.namelist()
            if extension in _ODF:
                if "mimetype" not in names:
                    return False
                # Never inflate more than the expected type's length: a zip bomb's
                # `mimetype` member would otherwise be decompressed whole into memory.
                expected = CONTENT_TYPES[extension]
                if package.getinfo("mimetype").file_size > _MIMETYPE_MAX:
                    return False
                with package.open("mimetype") as member:
                    found = member.read(_MIMETYPE_MAX + 1)
                return found.decode("ascii", "replace").strip() == expected
            part = _OOXML_PARTS[extension]
            return "[Content_Types].xml" in names and any(n.startswith(part) for n in names)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return False


def _is_text(path: str) -> bool:
    with open(path, "rb") as handle:
        data = handle.read(1024 * 1024)
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the 1 MiB window is still text.
        return exc.start >= len(data) - 3
    return True


def path_of(upload_dir: str, storage_key: str) -> Path:
    """Where a stored file lives; refuses anything that is not one of our keys."""
    if not _KEY.match(storage_key):
        raise ValueError("not a storage key")
    return Path(upload_dir) / storage_key[:2] / storage_key


def discard(upload_dir: str, storage_key: str) -> None:
    """Remove a stored file (its row is gone); a file already missing is fine."""
    _discard(str(path_of(upload_dir, storage_key)))


def _discard(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _fsync_dir(path: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
