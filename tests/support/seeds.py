"""Read the source documents (shared/seeds) into blocks, competencies and criteria.

Each parser follows the layout of one document: the CRCA referential's table extracted from a
PDF (001), the RNCP fiches' block lists (000, 003) and the courtage fiche's capacities and block
table (002). `transcription_problems` then compares a plugin's referential with what the
document says, so a moved, retyped or truncated wording fails a test.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from ltiservice.grading.referential import Block, Competency, Criterion, Referential

#: The seeds sit next to the repositories: <repo>/../shared/seeds.
SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"


def normalise(text: str) -> str:
    """Whitespace runs to one space, typographic apostrophes to ASCII: nothing else."""
    return re.sub(r"\s+", " ", text.replace("\u2019", "'")).strip()


def seed_text(prefix: str) -> str:
    """The text of the seed whose file name starts with ``prefix`` (``001`` …)."""
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


@dataclass
class SeedCompetency:
    code: str
    wording: str
    #: Criterion lines as the document breaks them; None when the document lists no criteria.
    criteria_lines: list[str] | None = None


@dataclass
class SeedBlock:
    code: str
    title: str
    competencies: list[SeedCompetency] = field(default_factory=list)
    #: For documents that run competencies together: line starts that begin a competency.
    competency_starts: tuple[str, ...] = ()


# --- 001: the CRCA referential (PDF table: activities, competencies, modalities, criteria) -------

_BLOCK_001 = re.compile(r"^Bloc de compétences (\d[AB]?)\b[^:]*:\s*(.*)$")
_COMPETENCY_001 = re.compile(r"^\s*C\s?(\d[AB]?\.\d+)\s*[-\u2013]?\s*(.*)$")
_ACTIVITY_001 = re.compile(r"^\s*A\s?\d[AB]?\.\d+\b")


def parse_crca_referential(text: str) -> list[SeedBlock]:
    """Blocks of seed 001: a block heading, then per competency its wording, then its criteria.

    Between them sit activity columns (``A 1.2 …`` with ``-`` bullets), the evaluation modality
    after a block's first competency, and page breaks that push activity bullets between two
    criteria; those are skipped. A criterion line starts with a capital letter; a line starting
    in lower case continues whatever came before it.
    """
    blocks: list[SeedBlock] = []
    state = "preamble"
    competency: SeedCompetency | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if heading := _BLOCK_001.match(stripped):
            blocks.append(SeedBlock(f"B{heading.group(1)}", heading.group(2)))
            state, competency = "title", None
        elif state == "preamble":
            continue
        elif match := _COMPETENCY_001.match(line):
            competency = SeedCompetency(f"C{match.group(1)}", match.group(2), [])
            blocks[-1].competencies.append(competency)
            state = "wording"
        elif _ACTIVITY_001.match(line):
            state = "activity"
        elif not stripped:
            state = _AFTER_BLANK.get(state, state)
            if state == "after_wording":
                # The evaluation modality follows the first competency of a block only.
                state = "modality" if len(blocks[-1].competencies) == 1 else "criteria"
        elif state == "title":
            blocks[-1].title += " " + stripped
        elif state == "wording" and competency is not None:
            competency.wording += " " + stripped
        elif state in ("activity", "block", "modality"):
            continue  # activity columns, or the modality paragraph
        elif stripped.startswith("-"):
            state = "bullet"  # an activity bullet a page break pushed among the criteria
        elif state in ("bullet", "modality_end") and not _starts_criterion(stripped):
            state = "modality" if state == "modality_end" else state  # a continuation
        elif competency is not None and competency.criteria_lines is not None:
            competency.criteria_lines.append(stripped)
            state = "criteria"
    return blocks


#: State after a blank line: a title or a wording ends; a modality paragraph may continue.
_AFTER_BLANK = {"title": "block", "wording": "after_wording", "modality": "modality_end"}


def _starts_criterion(line: str) -> bool:
    return line[:1].isupper()


# --- 000 and 003: RNCP fiches listing each block's competencies -------------------------------

_FICHE_BLOCK = re.compile(r"^(RNCP\d+BC\d+) - (.+)$")


def parse_rncp36140_fiche(text: str) -> list[SeedBlock]:
    """Blocks of seed 000: ``RNCP36140BCnn - title`` then one ``•`` line per competency."""
    blocks: list[SeedBlock] = []
    for line in text.splitlines():
        stripped = line.strip()
        if heading := _FICHE_BLOCK.match(stripped):
            blocks.append(SeedBlock(heading.group(1), heading.group(2)))
        elif blocks and stripped.startswith("•"):
            code = f"{blocks[-1].code[-4:]}-C{len(blocks[-1].competencies) + 1:02d}"
            blocks[-1].competencies.append(SeedCompetency(code, stripped.lstrip("• ")))
        elif blocks and stripped.startswith("Description des modalités"):
            break
    return blocks


def parse_rncp39866_fiche(text: str) -> list[SeedBlock]:
    """Blocks of seed 003: each block's table runs its competencies together on one line.

    The line is kept whole (one pseudo-competency); where each competency begins comes from
    the fiche's « Compétences attestées », one competency a line.
    """
    lines = [line.strip() for line in text.splitlines()]
    start = lines.index("Compétences attestées :") + 1
    end = lines.index("Modalités d'évaluation :", start)
    starts = tuple(" ".join(line.split()[:4]) for line in lines[start:end] if line)
    blocks: list[SeedBlock] = []
    for index, line in enumerate(lines):
        if heading := _FICHE_BLOCK.match(line):
            row = lines[index + 3].rstrip("| ").strip()
            block = SeedBlock(heading.group(1), heading.group(2), competency_starts=starts)
            block.competencies.append(SeedCompetency("*", row))
            blocks.append(block)
    return blocks


# --- 002: the courtage fiche (capacities list + HTML block table) -----------------------------

_COURTAGE_BLOCK = re.compile(r"^(BC\d) - (.+)$")
_COURTAGE_COMPETENCY = re.compile(r"^[-•]\s*(C\d+) - (.+)$")
_TABLE_ITEM = re.compile(r"<li>•\s*(C\d+)\s*-\s*(.*?)</li>")


def parse_courtage_fiche(text: str) -> list[SeedBlock]:
    """Blocks of seed 002: titles and membership from « Capacités attestées », wordings from
    the block table (which, unlike the list, keeps C15's final full stop)."""
    lines = [line.strip() for line in text.splitlines()]
    start = lines.index("Capacités attestées")
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("## "))
    table = {code: html.unescape(w) for code, w in _TABLE_ITEM.findall(text)}
    blocks: list[SeedBlock] = []
    for line in lines[start:end]:
        if heading := _COURTAGE_BLOCK.match(line):
            blocks.append(SeedBlock(heading.group(1), heading.group(2)))
        elif blocks and (item := _COURTAGE_COMPETENCY.match(line)):
            code = item.group(1)
            blocks[-1].competencies.append(SeedCompetency(code, table.get(code, item.group(2))))
    return blocks


# --- the check -----------------------------------------------------------------------------------


def transcription_problems(referential: Referential, seed: list[SeedBlock]) -> list[str]:
    """Every difference between the referential's blocks and the document's, as French-free
    ``where: what`` lines; empty when the transcription is faithful."""
    problems: list[str] = []
    ours = {_block_key(referential, b.code): b for b in referential.blocks}
    if sorted(ours) != sorted(b.code for b in seed):
        problems.append(f"blocks: {sorted(ours)} != document {sorted(b.code for b in seed)}")
    for seed_block in seed:
        block = ours.get(seed_block.code)
        if block is None:
            continue
        where = f"block {block.code}"
        if normalise(block.title) != normalise(seed_block.title):
            problems.append(f"{where} title: {block.title!r} != document {seed_block.title!r}")
        if seed_block.competency_starts:
            problems.extend(_run_together_problems(block, seed_block))
            continue
        codes = [c.code for c in block.competencies]
        seed_codes = [c.code for c in seed_block.competencies]
        if codes != seed_codes:
            problems.append(f"{where} competencies: {codes} != document {seed_codes}")
        by_code = {c.code: c for c in seed_block.competencies}
        for competency in block.competencies:
            source = by_code.get(competency.code)
            if source is not None:
                problems.extend(_competency_problems(block.code, competency, source))
    return problems


def _block_key(referential: Referential, code: str) -> str:
    block = referential.block(code)
    return block.rncp_block_code or code


def _competency_problems(block: str, competency: Competency, source: SeedCompetency) -> list[str]:
    where = f"block {block} competency {competency.code}"
    problems = []
    if normalise(competency.wording) != normalise(source.wording):
        problems.append(f"{where} wording: {competency.wording!r} != document {source.wording!r}")
    explicit = [c for c in competency.criteria if not c.derived]
    for criterion in competency.criteria:
        if criterion.derived and not normalise(criterion.wording).endswith(
            normalise(source.wording)
        ):
            problems.append(
                f"{where} derived criterion {criterion.id}: not the competency's wording"
            )
    if source.criteria_lines is None:
        if explicit:
            problems.append(
                f"{where}: the document gives no criteria, yet {explicit[0].id} is explicit"
            )
        return problems
    problems.extend(_criteria_problems(where, explicit, source.criteria_lines))
    return problems


def _criteria_problems(where: str, criteria: list[Criterion], lines: list[str]) -> list[str]:
    """The criteria, in order, are the document's lines cut at line starts only."""
    text = normalise(" ".join(lines))
    ours = normalise(" ".join(c.wording for c in criteria))
    if ours != text:
        return [f"{where} criteria: {_first_difference(ours, text)}"]
    starts = set()
    offset = 0
    for line in lines:
        starts.add(offset)
        offset += len(normalise(line)) + 1
    problems = []
    offset = 0
    for criterion in criteria:
        if offset not in starts:
            problems.append(f"{where} criterion {criterion.id}: does not start a document line")
        offset += len(normalise(criterion.wording)) + 1
    return problems


def _run_together_problems(block: Block, seed_block: SeedBlock) -> list[str]:
    where = f"block {block.code}"
    ours = normalise(" ".join(c.wording for c in block.competencies))
    text = normalise(seed_block.competencies[0].wording)
    problems = []
    if ours != text:
        problems.append(f"{where} competencies: {_first_difference(ours, text)}")
    starts = {normalise(s) for s in seed_block.competency_starts}
    for competency in block.competencies:
        if " ".join(normalise(competency.wording).split()[:4]) not in starts:
            problems.append(f"{where} competency {competency.code}: does not start a competency")
        for criterion in competency.criteria:
            if not criterion.derived:
                problems.append(f"{where} criterion {criterion.id}: the document gives none")
            elif not normalise(criterion.wording).endswith(normalise(competency.wording)):
                problems.append(f"{where} derived criterion {criterion.id}: not its competency")
    return problems


def _first_difference(ours: str, text: str) -> str:
    index = next(
        (i for i, (a, b) in enumerate(zip(ours, text, strict=False)) if a != b),
        min(len(ours), len(text)),
    )
    around = slice(max(0, index - 40), index + 40)
    return f"ours …{ours[around]!r} vs document …{text[around]!r}"
