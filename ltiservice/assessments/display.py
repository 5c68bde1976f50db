"""What the learner pages show, built from the assessment and its plugin: pure helpers."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from markdown_it import MarkdownIt
from markupsafe import Markup

from ltiservice.grading.interface import Block, CertificationPlugin, Epreuve, Referential
from ltiservice.models import Assessment

PARIS = ZoneInfo("Europe/Paris")
_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
# CommonMark with raw HTML off: a trainer's "<script>" shows as text, never runs.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False})


#: French names of the rules a referential's provenance entries name (placement page).
RULE_LABELS = {
    "jury.min_evaluators": "Nombre minimal d'évaluateurs du comité",
    "jury.roles": "Rôles des évaluateurs",
    "jury.required_roles": "Rôles à tenir obligatoirement",
    "jury.exclusions": "Évaluateurs exclus",
    "jury.min_sessions": "Nombre minimal de séances d'évaluation",
    "jury.distinct_session_dates": "Séances à des dates différentes",
    "jury.decisions": "Décisions possibles du jury",
    "combination": "Blocs à acquérir pour la certification",
    "combination.final_interview": "Entretien final",
    "thresholds.competency": "Seuil d'acquisition d'une compétence",
    "thresholds.not_observed": "Critère « non observé »",
    "thresholds.block": "Seuil d'acquisition d'un bloc",
    "grade.score_maximum": "Note maximale dans le carnet de notes",
    "grade.mapping": "Calcul de la note du carnet de notes",
    "equivalences": "Équivalences avec une version antérieure",
    "certification.registration_end_date": "Date d'échéance de l'enregistrement",
    "certification.last_delivery_date": "Date de dernière délivrance possible",
    "certification_jury.acquires_blocks": "Instance qui acquiert les blocs",
    "certification_jury.outcomes": "Décisions possibles du jury de certification",
    "certification_jury.routes": "Voies d'accès présentées au jury",
    "certification_jury.seats": "Composition du jury de certification",
    "certification_jury.equal_seats": "Parité entre délégations",
    "certification_jury.president_required": "Président du jury",
    "certification_jury.substitutes_only_for_absent": "Suppléants",
    "certification_jury.observers": "Observateurs",
}


def rule_label(rule: str) -> str:
    """The French name of a rule, or its dotted name when it has none yet."""
    return RULE_LABELS.get(rule, rule)


@dataclass(frozen=True)
class CaseView:
    """The case (sujet) as the learner reads it."""

    title: str
    statement_html: Markup
    deliverables: tuple[str, ...]
    duration_minutes: int | None
    #: An example the product ships, not a subject the certifier issued: said on screen.
    example: bool = False


def render_markdown(text: str) -> Markup:
    """Markdown to HTML with any raw HTML escaped."""
    return Markup(_rendered(text or ""))  # noqa: S704 - html disabled above


@functools.lru_cache(maxsize=256)
def _rendered(text: str) -> str:
    # Cases are long and read on every page view; their text rarely changes.
    return _MARKDOWN.render(text)


def french_datetime(moment: datetime | None) -> str:
    """« vendredi 12 juin 2026 à 18 h 00 » in Paris time."""
    if moment is None:
        return ""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(PARIS)
    day = "1er" if local.day == 1 else str(local.day)
    return (
        f"{_DAYS[local.weekday()]} {day} {_MONTHS[local.month - 1]} {local.year} "
        f"à {local.hour} h {local.minute:02d}"
    )


def french_time(moment: datetime) -> str:
    """« 14:05 » in Paris time."""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(PARIS)
    return local.strftime("%H:%M")


def french_size(size: int) -> str:
    """« 1,2 Mo », « 830 ko », « 12 octets »."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")
    if size >= 1024:
        return f"{size / 1024:.0f} ko"
    return f"{size} octet" + ("s" if size > 1 else "")


def referential_of(plugin: CertificationPlugin, assessment: Assessment) -> Referential:
    return plugin.referential(assessment.referential_version)


def block_of(plugin: CertificationPlugin, assessment: Assessment) -> Block:
    return referential_of(plugin, assessment).block(assessment.block_code)


def epreuve_of(plugin: CertificationPlugin | None, assessment: Assessment) -> Epreuve | None:
    """The épreuve the assessment evaluates; None for a block's one implicit épreuve, or when
    the plugin or the épreuve is gone (the page still shows the rest)."""
    if plugin is None or not assessment.epreuve_code:
        return None
    try:
        return block_of(plugin, assessment).epreuve(assessment.epreuve_code)
    except KeyError:
        return None


def case_of(plugin: CertificationPlugin, assessment: Assessment) -> CaseView | None:
    """The trainer's own case when there is one, else the plugin's case, else nothing."""
    custom = assessment.custom_case or {}
    if custom.get("statement"):
        return CaseView(
            title=str(custom.get("title") or assessment.title),
            statement_html=render_markdown(str(custom["statement"])),
            deliverables=tuple(str(d) for d in custom.get("deliverables") or ()),
            duration_minutes=None,
        )
    referential = referential_of(plugin, assessment)
    for case in referential.cases:
        if case.id == assessment.case_id:
            return CaseView(
                case.title,
                render_markdown(case.statement),
                case.deliverables,
                case.duration_minutes,
                case.example,
            )
    return None
