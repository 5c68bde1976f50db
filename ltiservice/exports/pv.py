"""The jury minutes (procès-verbal de jury) of one session, as a PDF ready to sign.

One session = one placed assessment (a block sitting in a course). The PDF lists the standing
decision of every submission (acquis / non acquis, competencies acquired n/N), the jury members
with their roles, the session dates, and signature lines. French; one reading order (a single
flow of title, facts, tables); title, author, subject and language set in the metadata.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import KeepTogether
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ltiservice.exports.identities import person_key
from ltiservice.exports.pdf import GRID, french_date, page_footer
from ltiservice.exports.scope import PARIS, ExportError, paris_day
from ltiservice.grading.interface import CertificationPlugin, Referential
from ltiservice.models import (
    Assessment,
    Decision,
    Evaluation,
    Organisation,
    Person,
    Platform,
    Submission,
)


@dataclass(frozen=True)
class Candidate:
    """One line of the minutes: a standing decision on a submission."""

    label: str
    attempt: int
    acquired: bool
    competencies: str  # "n/N"
    decided_on: dt.date
    corrected: bool
    evaluators: str


@dataclass(frozen=True)
class Member:
    """A jury member: name (or pseudonymous key) and role label."""

    label: str
    role: str


@dataclass(frozen=True)
class Minutes:
    """Everything the PDF shows, read from the database (no rendering here)."""

    organisation: str
    certification: str
    block: str
    version: str
    session: str
    course: str
    dates: tuple[dt.date, dt.date] | None
    candidates: tuple[Candidate, ...]
    members: tuple[Member, ...]


def find_assessment(db: Session, organisation: Organisation, assessment_id: int) -> Assessment:
    """The assessment, only if it belongs to the organisation."""
    assessment = db.scalar(
        select(Assessment).where(
            Assessment.id == assessment_id, Assessment.organisation_id == organisation.id
        )
    )
    if assessment is None:
        raise ExportError(
            f"Évaluation {assessment_id} introuvable dans l'organisme « {organisation.slug} »."
        )
    return assessment


def gather_minutes(
    db: Session,
    organisation: Organisation,
    assessment: Assessment,
    plugins: dict[str, CertificationPlugin],
) -> Minutes:
    """The session's standing decisions, candidates, jury members and dates."""
    referential = _referential(plugins, assessment)
    roles = referential.jury.role_label if referential else (lambda role: role)
    rows = db.execute(_standing_decisions(organisation, assessment)).all()
    if not rows:
        raise ExportError(
            f"Aucune décision de jury signée pour l'évaluation {assessment.id} : "
            "pas de procès-verbal à établir."
        )
    names = _people(db, {e["person_id"] for row in rows for e in row.Decision.evaluators or []})
    candidates, members = [], {}
    for row in rows:
        decision: Decision = row.Decision
        results = decision.competency_results or []
        acquired = sum(1 for r in results if isinstance(r, dict) and r.get("acquired"))
        seats = []
        for seat in decision.evaluators or []:
            label = (
                names.get(seat["person_id"])
                or seat.get("name")
                or f"évaluateur {seat['person_id']}"
            )
            role = roles(str(seat.get("role") or ""))
            members[(label, role)] = Member(label, role)
            seats.append(f"{label} ({role})")
        candidates.append(
            Candidate(
                label=row.name or person_key(row.issuer, row.sub),
                attempt=row.attempt,
                acquired=decision.block_acquired,
                competencies=f"{acquired}/{len(results)}",
                decided_on=paris_day(decision.decided_at),
                corrected=decision.supersedes_id is not None,
                evaluators="; ".join(seats),
            )
        )
    return Minutes(
        organisation=organisation.name,
        certification=_certification_label(referential, assessment),
        block=_block_label(referential, assessment),
        version=assessment.referential_version,
        session=assessment.title,
        course=assessment.course.title or assessment.course.context_id,
        dates=_session_dates(db, [row.Decision.submission_id for row in rows]),
        candidates=tuple(candidates),
        members=tuple(members.values()),
    )


def _standing_decisions(organisation: Organisation, assessment: Assessment) -> Any:
    successor = aliased(Decision)
    return (
        select(Decision, Submission.attempt, Person.name, Person.sub, Platform.issuer)
        .join(Submission, Decision.submission_id == Submission.id)
        .join(Person, Decision.person_id == Person.id)
        .join(Platform, Person.platform_id == Platform.id)
        .outerjoin(successor, successor.supersedes_id == Decision.id)
        .where(
            Submission.assessment_id == assessment.id,
            Decision.organisation_id == organisation.id,
            Platform.organisation_id == organisation.id,
            successor.id.is_(None),
        )
        .order_by(Person.name.is_(None), Person.name, Person.sub, Submission.attempt)
    )


def _people(db: Session, ids: set[int]) -> dict[int, str | None]:
    rows = db.execute(select(Person.id, Person.name).where(Person.id.in_(ids)))
    return {row.id: row.name for row in rows}


def _session_dates(db: Session, submission_ids: list[int]) -> tuple[dt.date, dt.date] | None:
    dates = {
        dt.date.fromisoformat(day)
        for days in db.scalars(
            select(Evaluation.session_dates).where(Evaluation.submission_id.in_(submission_ids))
        )
        for day in days or []
    }
    return (min(dates), max(dates)) if dates else None


def _referential(
    plugins: dict[str, CertificationPlugin], assessment: Assessment
) -> Referential | None:
    plugin = plugins.get(assessment.certification_code)
    return plugin.referentials.get(assessment.referential_version) if plugin else None


def _certification_label(referential: Referential | None, assessment: Assessment) -> str:
    if referential is None:
        return assessment.certification_code
    certification = referential.certification
    rncp = f" ({certification.rncp_code})" if certification.rncp_code else ""
    return f"{certification.title}{rncp}"


def _block_label(referential: Referential | None, assessment: Assessment) -> str:
    try:
        block = referential.block(assessment.block_code) if referential else None
    except KeyError:
        block = None
    if block is None:
        return assessment.block_code
    rncp = f" ({block.rncp_block_code})" if block.rncp_block_code else ""
    return f"{block.code}{rncp} : {block.title}"


# -- rendering ---------------------------------------------------------------------------------


def render_pdf(minutes: Minutes, now: dt.datetime | None = None) -> bytes:
    """The minutes as an A4 PDF (pure: no database)."""
    now = (now or dt.datetime.now(PARIS)).astimezone(PARIS)
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=9.5, leading=12)
    cell = ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5)
    title = f"Procès-verbal du comité d'évaluation : {minutes.session}"
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=minutes.organisation,
        subject=f"{minutes.certification}, bloc {minutes.block}",
        creator="ltiservice",
        lang="fr-FR",
    )
    story: list[Any] = [Paragraph("Procès-verbal du comité d'évaluation", styles["Title"])]
    dates = (
        f"du {french_date(minutes.dates[0])} au {french_date(minutes.dates[1])}"
        if minutes.dates
        else "non renseignées"
    )
    for label, value in (
        ("Organisme de formation", minutes.organisation),
        ("Certification", minutes.certification),
        ("Version du référentiel", minutes.version),
        ("Bloc de compétences", minutes.block),
        ("Session", f"{minutes.session} ({minutes.course})"),
        ("Dates des épreuves", dates),
        ("Édité le", now.strftime("%d/%m/%Y à %H:%M")),
    ):
        story.append(Paragraph(f"<b>{escape(label)} :</b> {escape(value)}", body))
    story += [Spacer(1, 5 * mm), Paragraph("Décisions du jury", styles["Heading2"])]
    story.append(_decisions_table(minutes, cell))
    story += [Spacer(1, 6 * mm), Paragraph("Membres du jury", styles["Heading2"])]
    story.append(_members_table(minutes, cell))
    story.append(Spacer(1, 8 * mm))
    story.append(
        KeepTogether(
            [
                Paragraph("Fait à ______________________, le ____ / ____ / ________", body),
                Spacer(1, 4 * mm),
                Paragraph("Signature du président du jury :", body),
                Spacer(1, 18 * mm),
            ]
        )
    )
    document.build(story, onFirstPage=page_footer, onLaterPages=page_footer)
    return buffer.getvalue()


def _decisions_table(minutes: Minutes, style: ParagraphStyle) -> Table:
    header = ["Candidat", "Tent.", "Décision", "Compétences acquises", "Date", "Évaluateurs (rôle)"]
    rows = [[Paragraph(f"<b>{h}</b>", style) for h in header]]
    for c in minutes.candidates:
        decision = "Acquis" if c.acquired else "Non acquis"
        if c.corrected:
            decision += " (après correction)"
        values = [
            c.label,
            str(c.attempt),
            decision,
            c.competencies,
            french_date(c.decided_on),
            c.evaluators,
        ]
        rows.append([Paragraph(escape(v), style) for v in values])
    widths = [40 * mm, 11 * mm, 24 * mm, 22 * mm, 20 * mm, 61 * mm]
    return Table(rows, colWidths=widths, repeatRows=1, style=GRID)


def _members_table(minutes: Minutes, style: ParagraphStyle) -> Table:
    rows = [[Paragraph(f"<b>{h}</b>", style) for h in ("Membre du jury", "Rôle", "Signature")]]
    rows += [
        [Paragraph(escape(m.label), style), Paragraph(escape(m.role), style), ""]
        for m in minutes.members
    ]
    table = Table(rows, colWidths=[50 * mm, 78 * mm, 50 * mm], repeatRows=1, style=GRID)
    table.setStyle(TableStyle([("BOTTOMPADDING", (0, 1), (-1, -1), 14)]))
    return table
