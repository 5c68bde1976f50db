"""Export a referential as a Moodle competency framework (admin tool ``tool_lpimportcsv``).

The CSV has Moodle's 14 columns and exactly one framework row, which carries the rating scale
("Non acquis, Acquis") and its JSON configuration. Blocks are the top-level competencies; each
block completes when all its competencies do (``competency_rule_all``), which is the core's block
rule. Id numbers are stable: ``<CODE>-<version>`` for the framework, then ``-<block code>``,
``-<competency code>`` (and ``-<criterion id>``), all unique within the referential and never
renumbered, so a re-import updates rather than duplicates.

Evaluation criteria are, by default, NOT competencies in Moodle but listed in each competency's
description. Trainers rate competencies in Moodle (course competencies, learning plans); a third
level of criteria would triple what they must rate, most criteria of imported fiches merely
restate their competency (``derived``), and the jury's verdicts per criterion live in ltiservice,
not in Moodle. ``include_criteria=True`` adds them as a third level for organisations that do want
to rate criteria in Moodle.
"""

from __future__ import annotations

import csv
import html
import io
import json

from ltiservice.grading.referential import Block, Competency, Criterion, Referential

HEADER = (
    "Parent id number",
    "Id number",
    "Shortname",
    "Description",
    "Description format",
    "Scale values",
    "Scale configuration",
    "Rule type (optional)",
    "Rule outcome (optional)",
    "Rule config (optional)",
    "Cross referenced competency id numbers",
    "Exported id (optional)",
    "Is framework",
    "Taxonomy",
)
SCALE_VALUES = "Non acquis,Acquis"
# Moodle's scale configuration: the scale, then per value whether it is the default / proficient.
SCALE_CONFIGURATION = json.dumps(
    [
        {"scaleid": "2"},
        {"id": 1, "scaledefault": 1, "proficient": 0},
        {"id": 2, "scaledefault": 0, "proficient": 1},
    ],
    separators=(",", ":"),
)
RULE_ALL = "core_competency\\competency_rule_all"
OUTCOME_NONE = "0"
OUTCOME_COMPLETE = "2"
FORMAT_HTML = "1"
# Moodle stores shortname and idnumber in 100-character columns.
MAX_SHORTNAME = 100
MAX_IDNUMBER = 100


class MoodleExportError(Exception):
    """The referential cannot be expressed as a Moodle framework (id clash or too long)."""


def framework_idnumber(referential: Referential) -> str:
    """``<CODE>-<version>``, e.g. ``CRCA-RNCP41351``: one framework per referential version."""
    version = "_".join(referential.certification.version.split())
    return f"{referential.certification.code}-{version}"


def build_moodle_framework_csv(referential: Referential, include_criteria: bool = False) -> str:
    """The referential as a ``tool_lpimportcsv`` CSV (UTF-8 text, CRLF rows, Moodle's header)."""
    framework = framework_idnumber(referential)
    rows = [_framework_row(referential, framework, include_criteria)]
    for block in referential.blocks:
        block_id = f"{framework}-{block.code}"
        rows.append(_row("", block_id, _block_name(block), _block_description(block), RULE_ALL))
        for competency in block.competencies:
            rows.extend(_competency_rows(framework, block_id, competency, include_criteria))
    _check_ids(rows)
    out = io.StringIO()
    writer = csv.writer(out)  # QUOTE_MINIMAL: commas, quotes and newlines quoted as Moodle reads
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue()


def _framework_row(referential: Referential, framework: str, include_criteria: bool) -> list[str]:
    cert = referential.certification
    details = [
        f"Code RNCP : {cert.rncp_code}" if cert.rncp_code else "Hors RNCP",
        f"version du référentiel : {cert.version}",
        f"certificateur(s) : {' ; '.join(cert.certifiers)}",
    ]
    if cert.level is not None:
        details.append(f"niveau {cert.level}")
    description = f"<p>{_html(cert.title)}</p><p>{_html(', '.join(details))}</p>"
    taxonomy = "domain,competency,indicator" if include_criteria else "domain,competency"
    return _line(
        {
            "Id number": framework,
            "Shortname": _short(cert.title),
            "Description": description,
            "Description format": FORMAT_HTML,
            "Scale values": SCALE_VALUES,
            "Scale configuration": SCALE_CONFIGURATION,
            "Is framework": "1",
            "Taxonomy": taxonomy,
        }
    )


def _competency_rows(
    framework: str, block_id: str, competency: Competency, include_criteria: bool
) -> list[list[str]]:
    competency_id = f"{framework}-{competency.code}"
    name = _short(f"{competency.code} - {competency.wording}")
    description = f"<p>{_html(competency.wording)}</p>"
    if not include_criteria:
        description += _criteria_list(competency.criteria)
        return [_row(block_id, competency_id, name, description, "")]
    rows = [_row(block_id, competency_id, name, description, RULE_ALL)]
    rows.extend(_criterion_row(framework, competency_id, c) for c in competency.criteria)
    return rows


def _criterion_row(framework: str, competency_id: str, criterion: Criterion) -> list[str]:
    name = _short(f"{criterion.id} - {criterion.wording}")
    return _row(competency_id, f"{framework}-{criterion.id}", name, _paragraph(criterion), "")


def _row(parent: str, idnumber: str, shortname: str, description: str, rule: str) -> list[str]:
    return _line(
        {
            "Parent id number": parent,
            "Id number": idnumber,
            "Shortname": shortname,
            "Description": description,
            "Description format": FORMAT_HTML,
            "Rule type (optional)": rule,
            "Rule outcome (optional)": OUTCOME_COMPLETE if rule else OUTCOME_NONE,
            "Rule config (optional)": "null",  # what Moodle's own export writes
        }
    )


def _line(values: dict[str, str]) -> list[str]:
    """One CSV row in HEADER order; columns not given are empty."""
    return [values.get(column, "") for column in HEADER]


def _block_name(block: Block) -> str:
    return _short(f"{block.code} - {block.title}")


def _block_description(block: Block) -> str:
    parts = [f"<p>{_html(block.title)}</p>"]
    if block.rncp_block_code:
        parts.append(f"<p>Bloc RNCP : {_html(block.rncp_block_code)}</p>")
    if block.evaluation_modalities:
        items = "".join(f"<li>{_html(m)}</li>" for m in block.evaluation_modalities)
        parts.append(f"<p>Modalités d'évaluation :</p><ul>{items}</ul>")
    return "".join(parts)


def _criteria_list(criteria: tuple[Criterion, ...]) -> str:
    if not criteria:
        return ""
    items = "".join(f"<li>{_html(c.id)} : {_html(c.wording)}</li>" for c in criteria)
    return f"<p>Critères d'évaluation :</p><ul>{items}</ul>"


def _paragraph(criterion: Criterion) -> str:
    note = " <em>(critère dérivé du libellé de la compétence)</em>" if criterion.derived else ""
    return f"<p>{_html(criterion.wording)}{note}</p>"


def _html(text: str) -> str:
    """Escape for Moodle's HTML description; source line breaks become ``<br>``."""
    return "<br>".join(html.escape(line.strip(), quote=False) for line in text.strip().splitlines())


def _short(text: str) -> str:
    """One line, at most Moodle's 100 characters, cut on a word with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= MAX_SHORTNAME:
        return flat
    cut = flat[: MAX_SHORTNAME - 1].rsplit(" ", 1)[0]
    return f"{cut}…"


def _check_ids(rows: list[list[str]]) -> None:
    seen: set[str] = set()
    for row in rows:
        idnumber = row[1]
        if idnumber in seen:
            raise MoodleExportError(
                f"Identifiant Moodle en double : {idnumber} (un code de bloc, de compétence ou "
                "de critère est réutilisé)."
            )
        if len(idnumber) > MAX_IDNUMBER:
            raise MoodleExportError(
                f"Identifiant Moodle trop long ({len(idnumber)} > {MAX_IDNUMBER}) : {idnumber}"
            )
        seen.add(idnumber)
