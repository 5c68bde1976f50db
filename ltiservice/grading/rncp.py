"""Streaming reader for France Compétences' RNCP open-data export (flux v4.1).

The daily export is one ~570 MB XML file (usually delivered zipped). It is read with
``lxml.etree.iterparse`` one ``FICHE`` at a time, each processed fiche (and what precedes it) is
dropped at once, so memory stays bounded whatever the file size. A zip is read straight from its
member, never extracted.

The export is untrusted input: entity declarations are refused before the parser sees them (a
"billion laughs" or an external entity never expands), DTDs and the network are never loaded, and
libxml2's default limits on text nodes stay on (``huge_tree=False``).
"""

from __future__ import annotations

import html
import os
import re
import zipfile
from collections.abc import Callable, Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from lxml import etree

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes read so far, total bytes) while the export is read."""

# How far into the file the prolog (XML declaration, comments, DOCTYPE) may reach before the root
# element. The real export has a one-line prolog; anything longer is suspicious.
_PROLOG_LIMIT = 1 << 20
_READ_CHUNK = 1 << 16
_ROOT_START = re.compile(rb"<[A-Za-z_:]")
# Comments and processing instructions may precede the DOCTYPE and hold "<tag"-like text.
_PROLOG_NOISE = re.compile(rb"<!--.*?-->|<\?.*?\?>", re.DOTALL)
_NIVEAU = re.compile(r"(\d+)")

# LISTE_COMPETENCES is free text: the export flattens line breaks to runs of spaces, and
# certifiers use bullets, numbering ("A1C1.", "C.1.", "1.1.2", "C1 -") or nothing at all.
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_HTML_BREAK = re.compile(r"(?i)</?(?:br|p|li|ul|ol|div|tr|h[1-6])\b[^<>]*>")
_LINE_BREAK = re.compile(r"\r\n|\r|\n|\t| {2,}")
_INLINE_BULLET = re.compile(r"\s*[•▪●◦■]\s*")
_BULLET = re.compile(r"^[-•*\u2013\u2014·▪●◦■]+\s*")
_NUMBERED = re.compile(
    r"^(?:[A-Z]{1,3}\d+(?:[.]?[A-Z]?\d+)*|[A-Z]\.\s?\d+(?:\.\d+)*|\d+(?:\.\d+)+|\d+)"
    r"\s*[.\-:)\u2013]?(?=\s|[A-ZÀ-Ý])"
)
_SENTENCE_END = (".", ";", ":", "!", "?", "…")


class RncpImportError(Exception):
    """The RNCP export cannot be read: unreadable, malformed, hostile, or the fiche is absent."""


@dataclass(frozen=True)
class RncpBloc:
    """One ``BLOCS_COMPETENCES/BLOC_COMPETENCES`` of a fiche, texts as the export gives them."""

    code: str
    libelle: str
    liste_competences_raw: str
    modalites_evaluation: str


@dataclass(frozen=True)
class RncpCorrespondance:
    """One ``CORRESPONDANCE``: blocks of this fiche that count as blocks of another fiche."""

    source_blocks: tuple[str, ...]
    destination_fiche: str | None
    destination_blocks: tuple[str, ...]


@dataclass(frozen=True)
class RncpFiche:
    """The parts of an RNCP fiche a certification plugin is built from."""

    numero: str
    intitule: str
    certificateurs: tuple[str, ...]
    niveau: int | None
    date_fin_enregistrement: date | None
    actif: bool | None
    blocs: tuple[RncpBloc, ...]
    correspondances: tuple[RncpCorrespondance, ...]
    # « Date de dernière délivrance possible » (export: DATE_LIMITE_DELIVRANCE), when given.
    date_limite_delivrance: date | None = None


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _CountingReader:
    """File-like wrapper that counts the bytes handed to the parser and reports progress.

    It also holds back the prolog so that it can be inspected before lxml parses a byte of it.
    """

    def __init__(self, raw: _Readable, total: int, progress: ProgressCallback | None) -> None:
        self._raw = raw
        self._total = total
        self._progress = progress
        self._pending = b""
        self.count = 0

    def prolog(self) -> tuple[bytes, bool]:
        """Return (bytes before the root element, whether the root was found); replayed later."""
        while len(self._pending) < _PROLOG_LIMIT:
            masked = _PROLOG_NOISE.sub(lambda m: b" " * len(m.group()), self._pending)
            match = _ROOT_START.search(masked)
            if match:
                return self._pending[: match.start()], True
            chunk = self._raw.read(_READ_CHUNK)
            if not chunk:
                break
            self._pending += chunk
        return self._pending, False

    def read(self, size: int = -1) -> bytes:
        if self._pending:
            data = self._pending if size < 0 else self._pending[:size]
            self._pending = self._pending[len(data) :]
        else:
            data = self._raw.read(size)
        self.count += len(data)
        if self._progress is not None:
            self._progress(self.count, self._total)
        return data


def _refuse_entity_declarations(prolog: bytes, complete: bool) -> None:
    """Refuse a DOCTYPE that declares entities: lxml must never be asked to expand one."""
    upper = prolog.upper()
    if b"<!ENTITY" in upper:
        raise RncpImportError(
            "Export RNCP refusé : le fichier déclare des entités XML (<!ENTITY> dans son DOCTYPE). "
            "L'export de France compétences n'en contient jamais ; ce fichier est peut-être "
            "malveillant (« billion laughs », entité externe). Rien n'a été développé."
        )
    if b"<!DOCTYPE" in upper and not complete:
        raise RncpImportError(
            f"Export RNCP refusé : DOCTYPE de plus de {_PROLOG_LIMIT} octets "
            "avant l'élément racine."
        )


@contextmanager
def _open_export(source: str | os.PathLike[str]) -> Iterator[tuple[_Readable, int]]:
    """Open an ``.xml`` export or the single XML member of a ``.zip``; yield (stream, size)."""
    path = Path(source)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.infolist() if m.filename.lower().endswith(".xml")]
                if len(members) != 1:
                    names = ", ".join(m.filename for m in members) or "aucun"
                    raise RncpImportError(
                        f"{path} : l'archive doit contenir exactement un fichier XML "
                        f"(trouvé : {names})."
                    )
                with archive.open(members[0]) as stream:
                    yield stream, members[0].file_size
        else:
            with path.open("rb") as stream:
                yield stream, path.stat().st_size
    except (OSError, zipfile.BadZipFile) as exc:
        raise RncpImportError(f"Impossible de lire l'export RNCP {path} : {exc}") from exc


def _syntax_error_message(path: str, exc: etree.XMLSyntaxError) -> str:
    text = str(exc)
    if "too long" in text or "huge" in text.lower():
        return (
            f"Export RNCP refusé ({path}) : un nœud texte dépasse la taille maximale admise "
            f"(limite de sécurité de lxml, huge_tree désactivé) — {text}"
        )
    if "entity" in text.lower() or "amplification" in text:
        return f"Export RNCP refusé ({path}) : entités XML refusées — {text}"
    return f"Export RNCP illisible ({path}) : XML mal formé — {text}"


def _iter_fiche_elements(
    source: str | os.PathLike[str], progress: ProgressCallback | None
) -> Generator[etree._Element, None, None]:
    """Yield each ``FICHE`` element; it is cleared as soon as the consumer asks for the next."""
    with _open_export(source) as (raw, total):
        reader = _CountingReader(raw, total, progress)
        _refuse_entity_declarations(*reader.prolog())
        context = etree.iterparse(
            reader,
            events=("end",),
            tag="FICHE",
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        )
        checked_dtd = False
        try:
            for _event, element in context:
                if not checked_dtd:
                    _refuse_dtd_entities(element)
                    checked_dtd = True
                yield element
                # Drop the fiche and everything before it: the tree never grows past one fiche.
                element.clear(keep_tail=True)
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
        except etree.XMLSyntaxError as exc:
            raise RncpImportError(_syntax_error_message(str(source), exc)) from exc
        if progress is not None:
            progress(total, total)


def _refuse_dtd_entities(element: etree._Element) -> None:
    """Second guard for encodings the byte-level prolog check cannot read (e.g. UTF-16)."""
    dtd = element.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise RncpImportError("Export RNCP refusé : le fichier déclare des entités XML.")


def _text(element: etree._Element, path: str) -> str:
    """Text of a child found by name (order varies between fiches); '' when absent or empty."""
    return (element.findtext(path) or "").strip()


def _parse_date(numero: str, field: str, value: str) -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%d/%m/%Y").date()
    except ValueError as exc:
        raise RncpImportError(
            f"{numero} : {field} « {value} » n'est pas une date JJ/MM/AAAA."
        ) from exc


def _parse_bool(value: str) -> bool | None:
    return {"oui": True, "non": False}.get(value.lower())


def _parse_niveau(value: str) -> int | None:
    match = _NIVEAU.search(value)
    return int(match.group(1)) if match else None


def _bloc(element: etree._Element) -> RncpBloc:
    return RncpBloc(
        code=_text(element, "CODE"),
        libelle=_text(element, "LIBELLE"),
        liste_competences_raw=element.findtext("LISTE_COMPETENCES") or "",
        modalites_evaluation=element.findtext("MODALITES_EVALUATION") or "",
    )


def _codes(element: etree._Element | None) -> tuple[str, ...]:
    if element is None:
        return ()
    return tuple(_text(b, "CODE") for b in element.iterfind("BLOC_COMPETENCES") if _text(b, "CODE"))


def _correspondance(element: etree._Element) -> RncpCorrespondance:
    destination = element.find("DESTINATION")
    return RncpCorrespondance(
        source_blocks=_codes(element.find("SOURCE")),
        destination_fiche=(_text(destination, "NUMERO_FICHE") or None)
        if destination is not None
        else None,
        destination_blocks=_codes(destination),
    )


def build_fiche(element: etree._Element) -> RncpFiche:
    """Turn one ``FICHE`` element into an :class:`RncpFiche` (children looked up by name)."""
    numero = _text(element, "NUMERO_FICHE")
    return RncpFiche(
        numero=numero,
        intitule=_text(element, "INTITULE"),
        certificateurs=tuple(
            _text(c, "NOM_CERTIFICATEUR")
            for c in element.iterfind("CERTIFICATEURS/CERTIFICATEUR")
            if _text(c, "NOM_CERTIFICATEUR")
        ),
        niveau=_parse_niveau(_text(element, "NOMENCLATURE_EUROPE/NIVEAU")),
        date_fin_enregistrement=_parse_date(
            numero, "DATE_FIN_ENREGISTREMENT", _text(element, "DATE_FIN_ENREGISTREMENT")
        ),
        date_limite_delivrance=_parse_date(
            numero, "DATE_LIMITE_DELIVRANCE", _text(element, "DATE_LIMITE_DELIVRANCE")
        ),
        actif=_parse_bool(_text(element, "ACTIF")),
        # Only the fiche's own blocks: CORRESPONDANCES hold BLOC_COMPETENCES elements too.
        blocs=tuple(_bloc(b) for b in element.iterfind("BLOCS_COMPETENCES/BLOC_COMPETENCES")),
        correspondances=tuple(
            _correspondance(c) for c in element.iterfind("CORRESPONDANCES/CORRESPONDANCE")
        ),
    )


def _lines(raw_text: str) -> list[str]:
    text = raw_text
    if _HTML_TAG.search(text):
        text = _HTML_TAG.sub(" ", _HTML_BREAK.sub("\n", text))
    text = html.unescape(text)
    text = _INLINE_BULLET.sub("\n• ", text)
    return [line.strip() for line in _LINE_BREAK.split(text) if line.strip()]


def _continues(previous: str, line: str) -> bool:
    """A PDF line break inside a sentence: the next piece starts lower-case, mid-sentence."""
    starts_lower = line[0].islower() or line[0] in ",)(&"
    return starts_lower and not previous.rstrip().endswith(_SENTENCE_END)


def split_competencies(raw_text: str) -> list[str]:
    """Propose one competency per item of a fiche's free-text ``LISTE_COMPETENCES``.

    A proposal for a person to review, never a transcription: bullets (``-``, ``•``, ``*``) are
    dropped, numbering (``A1C1.``, ``C.1.``, ``1.1.2``, ``C1 -``) is kept so nothing is lost,
    HTML fragments become line breaks, and a piece starting lower-case after an unfinished
    sentence is joined to the previous item. Every word of the input is in the result.
    """
    items: list[str] = []
    for line in _lines(raw_text):
        marked = bool(_BULLET.match(line) or _NUMBERED.match(line))
        body = _BULLET.sub("", line).strip()
        if not body:
            continue
        if items and not marked and _continues(items[-1], body):
            items[-1] = f"{items[-1]} {body}"
        else:
            items.append(body)
    return [" ".join(item.split()) for item in items]


def iter_fiches(
    source: str | os.PathLike[str], progress: ProgressCallback | None = None
) -> Iterator[RncpFiche]:
    """Stream every fiche of an RNCP export (``.xml`` or ``.zip``) in file order.

    Raises :class:`RncpImportError` for an unreadable, malformed or hostile file.
    """
    for element in _iter_fiche_elements(source, progress):
        yield build_fiche(element)


def find_fiche(
    source: str | os.PathLike[str], numero: str, progress: ProgressCallback | None = None
) -> RncpFiche:
    """Return the fiche ``numero`` (e.g. ``"RNCP36140"``, or ``"36140"``) of an RNCP export.

    Only the matching fiche is converted; the rest of the file is streamed past. ``progress`` is
    called with (bytes read, total bytes). Raises :class:`RncpImportError` when the fiche is absent
    or the file cannot be read safely.
    """
    wanted = numero.strip().upper()
    if wanted.isdigit():  # "36140" means RNCP36140; RS fiches always carry their prefix
        wanted = f"RNCP{wanted}"
    with closing(_iter_fiche_elements(source, progress)) as elements:
        for element in elements:
            if _text(element, "NUMERO_FICHE").upper() == wanted:
                return build_fiche(element)
    raise RncpImportError(f"La fiche {numero} est absente de l'export RNCP {source}.")


def equivalences_from_correspondances(
    fiche: RncpFiche, older_blocks: dict[str, str], current_blocks: dict[str, str], older: str
) -> list[dict[str, object]]:
    """The fiche's CORRESPONDANCES with an older version, as ``equivalences`` YAML entries.

    ``older_blocks`` and ``current_blocks`` map RNCP block codes (``RNCP36140BC01``) to the
    plugin's block codes for the older and the current version; ``older`` is the older
    version id. Each entry carries its source (the export, the correspondance as exported), so
    it passes the schema's rule that no equivalence goes unsourced. A correspondance whose
    blocks are not all known to the plugin is left out rather than guessed.
    """
    older_fiche = older.upper()
    entries: list[dict[str, object]] = []
    for corr in fiche.correspondances:
        if (corr.destination_fiche or "").upper() != older_fiche or not corr.source_blocks:
            continue
        targets = [current_blocks.get(code) for code in corr.source_blocks]
        sources = [older_blocks.get(code) for code in corr.destination_blocks]
        if not sources or None in targets or None in sources:
            continue
        quote = (
            f"{' '.join(corr.source_blocks)} -> {older_fiche} {' '.join(corr.destination_blocks)}"
        )
        for source in sources:
            entries.append(
                {
                    "from_version": older,
                    "from_block": source,
                    "to_blocks": targets,
                    "source": {
                        "document": f"Export RNCP, fiche {fiche.numero}, CORRESPONDANCES",
                        "quote": quote,
                    },
                }
            )
    return entries


__all__ = [
    "ProgressCallback",
    "RncpBloc",
    "RncpCorrespondance",
    "RncpFiche",
    "RncpImportError",
    "build_fiche",
    "equivalences_from_correspondances",
    "find_fiche",
    "iter_fiches",
    "split_competencies",
]
