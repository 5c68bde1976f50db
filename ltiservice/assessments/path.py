"""« Mon parcours »: the blocks a learner holds in a certification, drawn as an SVG picture.

Blocks come from the candidate's standing (`certification.standing`): the capitalisation
ledger (blocks acquired for good), the blocks the evaluation committee proposes and the
certification jury has not decided yet, and the jury's award. A candidate is certified only
when the jury awarded the certification; « conditions réunies » until then.
The SVG is built here, server side, with every text escaped; the page pairs it with a text
list saying the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from xml.sax.saxutils import escape

from markupsafe import Markup

from ltiservice.certification.standing import Standing
from ltiservice.grading.interface import (
    FINAL_INTERVIEW_FACT,
    CertificationPlugin,
    CertificationStatus,
    Referential,
)

BOX_W = 150
BOX_H = 64
GAP = 16
PAD = 16
ROW_TITLE = 28


@dataclass(frozen=True)
class BlockCell:
    code: str
    title: str
    acquired: bool
    proposed: bool = False  # proposed acquired by the committee, awaiting the jury
    # An option of a choice group whose count other held blocks already meet: not needed.
    not_chosen: bool = False

    @property
    def state(self) -> str:
        """The cell's state in French."""
        if self.acquired:
            return "acquis"
        if self.proposed:
            return "proposé, en attente du jury"
        return "option non retenue" if self.not_chosen else "à acquérir"


@dataclass(frozen=True)
class PathRow:
    """One row of the picture: the required blocks, or one choice group."""

    label: str
    cells: tuple[BlockCell, ...]
    needed: int  # how many of the row's blocks the certification asks for
    choice: bool


@dataclass(frozen=True)
class Path:
    certification: str
    version: str
    rows: tuple[PathRow, ...]
    final_interview: bool
    final_interview_passed: bool
    status: CertificationStatus
    certified: bool = False  # the certification jury awarded the certification
    to_present: bool = False  # conditions met: to be presented to the certification jury


def build_path(
    plugin: CertificationPlugin, standing: Standing, facts: Mapping[str, bool] | None = None
) -> Path:
    """The rows of the picture and the certification status, from the candidate's standing."""
    facts = facts or {}
    referential = plugin.current
    rule = referential.combination
    held, proposed = standing.held, standing.proposed
    rows = []
    if rule.required_blocks:
        cells = tuple(_cell(referential, code, held, proposed) for code in rule.required_blocks)
        rows.append(PathRow("Blocs obligatoires", cells, len(cells), choice=False))
    for group in rule.choose:
        cells = tuple(_cell(referential, code, held, proposed) for code in group.from_blocks)
        if sum(cell.acquired for cell in cells) >= group.count:
            # The either/or is settled: the other options are no longer « à acquérir ».
            cells = tuple(
                cell if cell.acquired or cell.proposed else replace(cell, not_chosen=True)
                for cell in cells
            )
        label = f"{group.count} parmi {' / '.join(group.from_blocks)}"
        rows.append(PathRow(label, cells, group.count, choice=True))
    return Path(
        certification=referential.certification.title,
        version=referential.version,
        rows=tuple(rows),
        final_interview=rule.final_interview,
        final_interview_passed=bool(facts.get(FINAL_INTERVIEW_FACT)),
        status=standing.status,
        certified=standing.certified,
        to_present=standing.to_present,
    )


def _cell(
    referential: Referential, code: str, held: frozenset[str], proposed: frozenset[str]
) -> BlockCell:
    return BlockCell(code, referential.block(code).title, code in held, code in proposed)


def build_svg(path: Path) -> Markup:
    """The picture: one row per requirement, acquired blocks filled and ticked."""
    widest = max((len(row.cells) for row in path.rows), default=1)
    width = PAD * 2 + widest * BOX_W + (widest - 1) * GAP
    row_h = ROW_TITLE + BOX_H + GAP
    extra = 1 if path.final_interview else 0
    height = PAD * 2 + (len(path.rows) + extra) * row_h
    held = sum(cell.acquired for row in path.rows for cell in row.cells)
    total = sum(len(row.cells) for row in path.rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="path-picture" role="img" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="path-title path-desc">',
        f'<title id="path-title">Mon parcours : {escape(path.certification)}</title>',
        f'<desc id="path-desc">{held} bloc{"s" if held > 1 else ""} acquis sur {total}. '
        f"{escape(_status_sentence(path))}</desc>",
    ]
    y = PAD
    for row in path.rows:
        parts.append(_row_svg(row, y, width))
        y += row_h
    if path.final_interview:
        parts.append(f'<text class="path-row-title" x="{PAD}" y="{y + 18}">Entretien final</text>')
        passed = path.final_interview_passed
        state = "réussi" if passed else "à passer"
        parts.append(_box_svg(PAD, y + ROW_TITLE, "Entretien", state, acquired=passed))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def _row_svg(row: PathRow, y: int, width: int) -> str:
    parts = [f'<text class="path-row-title" x="{PAD}" y="{y + 18}">{escape(row.label)}</text>']
    if row.choice:
        frame_w = len(row.cells) * BOX_W + (len(row.cells) - 1) * GAP + GAP
        parts.append(
            f'<rect class="path-choice" x="{PAD - GAP // 2}" y="{y + ROW_TITLE - GAP // 2}" '
            f'width="{frame_w}" height="{BOX_H + GAP}" rx="10"/>'
        )
    for index, cell in enumerate(row.cells):
        x = PAD + index * (BOX_W + GAP)
        parts.append(
            _box_svg(x, y + ROW_TITLE, cell.code, cell.state, cell.acquired, cell.not_chosen)
        )
    return "".join(parts)


def _box_svg(
    x: int, y: int, code: str, state: str, acquired: bool, not_chosen: bool = False
) -> str:
    kind = "path-block path-acquired" if acquired else "path-block path-missing"
    if not_chosen:
        kind = "path-block path-not-chosen"
    mark = "✓ " if acquired else ""
    return (
        f'<g class="{kind}"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6"/>'
        f'<text class="path-code" x="{x + BOX_W // 2}" y="{y + 26}">{mark}{escape(code)}</text>'
        f'<text class="path-state" x="{x + BOX_W // 2}" y="{y + 48}">{escape(state)}</text></g>'
    )


def _status_sentence(path: Path) -> str:
    if path.certified:
        return "Certification obtenue (décision du jury de certification)."
    if path.to_present:
        return "Conditions réunies — à présenter au jury de certification."
    return "Certification non encore obtenue : " + " ".join(path.status.missing)
