"""The minutes (procès-verbal) of a certification jury session, as an A4 PDF.

Built once, when the secretary signs the session, from the session's rows: its body and
date, who sat in which seat (titular, substitute for whom, president, absent, observers), the
composition check the plugin declares, and for each candidate the route, the committee's
proposals, the jury's decision, the blocks it validated and its reason. The stored PDF is the
minutes: it is never rebuilt.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ltiservice.exports.pdf import GRID, french_date, page_footer
from ltiservice.exports.scope import PARIS
from ltiservice.grading.interface import JURY_OUTCOMES, CertificationPlugin, JuryProblem
from ltiservice.models import JuryDecision, JuryMemberRow, JurySession, Organisation


@dataclass(frozen=True)
class MinutesContext:
    """What the minutes show besides the session's own rows."""

    organisation: Organisation
    plugin: CertificationPlugin
    problems: tuple[JuryProblem, ...]
    signer: str


def member_label(member: JuryMemberRow, session: JurySession) -> str:
    """« titulaire », « suppléant de X », « absent », « président » in French."""
    if member.observer:
        return "observateur" + ("" if member.present else ", absent")
    parts = ["titulaire" if member.titular else "suppléant"]
    if not member.titular and member.substitute_for_id:
        replaced = next((m for m in session.members if m.id == member.substitute_for_id), None)
        if replaced is not None:
            parts[0] += f" de {replaced.name}"
    if member.president:
        parts.append("président")
    if not member.present:
        parts.append("absent")
    return ", ".join(parts)


def outcome_text(decision: JuryDecision, block_titles: dict[str, str]) -> str:
    """The decision in French, with the blocks it validates."""
    text = JURY_OUTCOMES.get(decision.outcome or "", "Sans décision")
    if decision.blocks:
        text += " : " + ", ".join(
            f"{code} ({block_titles.get(code, code)})" for code in decision.blocks
        )
    if decision.final_interview_passed is not None:
        text += ". Entretien final " + (
            "réussi" if decision.final_interview_passed else "non réussi"
        )
    return text


def proposals_text(decision: JuryDecision) -> str:
    """The committee's proposals as the jury saw them."""
    if decision.route == "vae":
        return f"Dossier VAE {decision.dossier_reference}"
    parts = []
    for proposal in decision.proposals or []:
        state = "acquis" if proposal.get("acquired") else "non acquis"
        if not proposal.get("complete"):
            state = "incomplet"
        parts.append(f"{proposal['block']} {state}")
    return ", ".join(parts) or "aucune"


def render_minutes(session: JurySession, context: MinutesContext) -> bytes:
    """The session's minutes as an A4 PDF (pure: reads the rows given, writes nothing)."""
    referential = context.plugin.referential(session.referential_version)
    jury = referential.certification_jury
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=9.5, leading=12)
    cell = ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5)
    buffer = io.BytesIO()
    title = f"Procès-verbal du {jury.label} du {french_date(session.held_on)}"
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=context.organisation.name,
        subject=referential.certification.title,
        creator="ltiservice",
        lang="fr-FR",
    )
    cert = referential.certification
    signed = session.signed_at.astimezone(PARIS) if session.signed_at else None
    story: list[Any] = [Paragraph(escape(title), styles["Title"])]
    for label, value in (
        ("Organisme de formation", context.organisation.name),
        (
            "Certification",
            f"{cert.title} ({cert.rncp_code or cert.code}, référentiel {cert.version})",
        ),
        ("Jury", jury.label),
        ("Date de la session", french_date(session.held_on)),
        ("Lieu", session.place or "non renseigné"),
        ("Signé par", f"{context.signer}, le {signed:%d/%m/%Y à %H:%M}" if signed else "—"),
    ):
        story.append(Paragraph(f"<b>{escape(label)} :</b> {escape(value)}", body))
    story += [Spacer(1, 4 * mm), Paragraph("Composition du jury", styles["Heading2"])]
    story.append(_members_table(session, jury.seat_label, dict(jury.observers), cell))
    story.append(Spacer(1, 2 * mm))
    if context.problems:
        story.append(Paragraph("<b>Composition non conforme :</b>", body))
        story += [Paragraph("• " + escape(p.message), body) for p in context.problems]
    else:
        story.append(
            Paragraph(
                "<b>Composition vérifiée :</b> conforme aux règles déclarées pour ce jury.", body
            )
        )
    story += [Spacer(1, 4 * mm), Paragraph("Décisions du jury", styles["Heading2"])]
    titles = {block.code: block.title for block in referential.blocks}
    story.append(_decisions_table(session, titles, cell))
    story += [
        Spacer(1, 4 * mm),
        Paragraph(
            "Le jury est souverain. En cas de validation partielle par bloc(s), les compétences "
            "sont acquises définitivement. Les délibérations du jury sont confidentielles.",
            body,
        ),
    ]
    document.build(story, onFirstPage=page_footer, onLaterPages=page_footer)
    return buffer.getvalue()


def _members_table(
    session: JurySession, seat_label: Any, observers: dict[str, str], style: ParagraphStyle
) -> Table:
    header = ("Membre", "Siège", "Qualité", "Signature")
    rows = [[Paragraph(f"<b>{h}</b>", style) for h in header]]
    for member in session.members:
        seat = (
            observers.get(member.seat, member.seat) if member.observer else seat_label(member.seat)
        )
        values = (member.name, seat, member_label(member, session), "")
        rows.append([Paragraph(escape(v), style) for v in values])
    table = Table(rows, colWidths=[45 * mm, 60 * mm, 40 * mm, 33 * mm], repeatRows=1, style=GRID)
    table.setStyle(TableStyle([("BOTTOMPADDING", (0, 1), (-1, -1), 12)]))
    return table


def _decisions_table(session: JurySession, titles: dict[str, str], style: ParagraphStyle) -> Table:
    header = ("Candidat", "Voie", "Propositions du comité", "Décision du jury", "Motif")
    rows = [[Paragraph(f"<b>{h}</b>", style) for h in header]]
    for decision in session.decisions:
        person = decision.person
        values = (
            person.name or person.sub,
            "VAE" if decision.route == "vae" else "Évaluation",
            proposals_text(decision),
            outcome_text(decision, titles),
            decision.reason or "—",
        )
        rows.append([Paragraph(escape(v), style) for v in values])
    widths = [34 * mm, 18 * mm, 38 * mm, 52 * mm, 36 * mm]
    return Table(rows, colWidths=widths, repeatRows=1, style=GRID)


__all__ = ["MinutesContext", "member_label", "outcome_text", "proposals_text", "render_minutes"]
