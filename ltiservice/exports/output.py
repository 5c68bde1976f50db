"""Writing an export: to a temporary file beside the target, renamed only once complete."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ltiservice.exports.scope import ExportError


def check_writable(path: Path) -> Path:
    """The target's folder must exist and be writable, and the target must not be a folder."""
    folder = path.parent
    if path.is_dir():
        raise ExportError(f"Fichier de sortie invalide : {path} est un dossier.")
    if not folder.is_dir():
        raise ExportError(f"Impossible d'écrire {path} : le dossier {folder} n'existe pas.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(
            f"Impossible d'écrire {path} : le dossier {folder} n'est pas accessible en écriture."
        )
    return path


@contextmanager
def atomic_output(path: Path, *, binary: bool = False, encoding: str = "utf-8") -> Iterator[IO]:  # type: ignore[type-arg]
    """A handle on a hidden temporary file; renamed to ``path`` on success, removed on failure.

    The file is created readable by its owner only (mode 0600): exports hold personal data.
    """
    check_writable(path)
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise ExportError(f"Impossible d'écrire {path} : {exc.strerror}.") from exc
    try:
        if binary:
            handle: IO = os.fdopen(fd, "wb")  # type: ignore[type-arg]
        else:
            handle = os.fdopen(fd, "w", encoding=encoding, newline="")
        with handle:
            yield handle
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    """Write a document built in memory, atomically."""
    with atomic_output(path, binary=True) as handle:
        handle.write(data)
