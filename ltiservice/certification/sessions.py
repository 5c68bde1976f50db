"""Certification jury sessions: members, candidates presented, decisions, signed minutes.

A session belongs to one organisation and one referential version of one certification. While
it is a draft, the jury secretary records who sits, presents candidates (with the committee's
proposals, or a VAE dossier) and records each sovereign decision. Signing the minutes checks
the composition the plugin declares and that every candidate presented has a decision, then,
in the caller's single transaction: freezes the session, writes the ledger entries of the
blocks the jury validated, the award of each validation totale, the outbox messages
(`events.jury_decision_signed`) and the PDF minutes. Nothing of a draft has any effect.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ltiservice import events
from ltiservice.certification.standing import Standing, standing_of
from ltiservice.errors import ConflictError, NotFoundError, ServiceError
from ltiservice.evaluations import ledger, proposals
from ltiservice.grading.interface import (
    FINAL_INTERVIEW_FACT,
    JURY_OUTCOMES,
    JURY_ROUTES,
    CertificationPlugin,
    JuryMember,
    JuryProblem,
    Referential,
)
from ltiservice.grading.registration import registration_status
from ltiservice.models import (
    CertificationAward,
    JuryDecision,
    JuryMemberRow,
    JurySession,
    LedgerEntry,
    Person,
    Platform,
)

NAME_MAX = 200
TEXT_MAX = 4000


def _invalid(message: str, code: str = "jury_invalid") -> ServiceError:
    return ServiceError(message, code=code, status=422)


# -- sessions -----------------------------------------------------------------------------------


def open_session(
    db: Session,
    plugin: CertificationPlugin,
    organisation_id: int,
    *,
    version: str | None,
    held_on: dt.date,
    place: str,
    creator_id: int | None,
) -> JurySession:
    """A new draft session of the plugin's certification jury."""
    try:
        referential = plugin.referential(version or None)
    except KeyError:
        raise _invalid(f"Le référentiel « {version} » n'existe pas pour {plugin.code}.") from None
    if len(place) > NAME_MAX:
        raise _invalid(f"Le lieu tient en {NAME_MAX} caractères au plus.")
    session = JurySession(
        organisation_id=organisation_id,
        certification_code=plugin.code,
        referential_version=referential.version,
        body=referential.certification_jury.body,
        held_on=held_on,
        place=place.strip(),
        created_by_id=creator_id,
    )
    db.add(session)
    db.flush()
    return session


def session_for(db: Session, organisation_id: int, session_id: int) -> JurySession:
    """The organisation's session; another organisation's is as if it did not exist."""
    session = db.get(JurySession, session_id)
    if session is None or session.organisation_id != organisation_id:
        raise NotFoundError("Cette session de jury n'existe pas dans votre organisme.")
    return session


def sessions_of(db: Session, organisation_id: int) -> list[JurySession]:
    """The organisation's sessions, newest first."""
    return list(
        db.scalars(
            select(JurySession)
            .where(JurySession.organisation_id == organisation_id)
            .order_by(JurySession.held_on.desc(), JurySession.id.desc())
        )
    )


def referential_of(plugin: CertificationPlugin, session: JurySession) -> Referential:
    """The referential version the session decides under."""
    return plugin.referential(session.referential_version)


def _draft(session: JurySession) -> None:
    if session.status != "draft":
        raise ConflictError(
            "Le procès-verbal de cette session est signé : elle est close et ne change plus.",
            code="session_signed",
        )


# -- members ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberInput:
    """A person the secretary records on the session."""

    name: str
    seat: str
    titular: bool = True
    present: bool = True
    president: bool = False
    substitute_for_id: int | None = None
    observer: bool = False


def add_member(
    db: Session, plugin: CertificationPlugin, session: JurySession, data: MemberInput
) -> JuryMemberRow:
    """Record a member or an observer; the composition is checked as a whole at signing."""
    _draft(session)
    jury = referential_of(plugin, session).certification_jury
    name = data.name.strip()
    if not name or len(name) > NAME_MAX:
        raise _invalid(f"Indiquez le nom du membre ({NAME_MAX} caractères au plus).")
    if data.observer:
        if data.seat not in jury.observers:
            raise _invalid("Ce rôle d'observateur n'existe pas pour ce jury.")
    elif jury.seat(data.seat) is None:
        raise _invalid(f"Le siège « {data.seat} » n'existe pas pour ce jury.")
    replaced = None
    if not data.titular and not data.observer:
        replaced = _titular(session, data.substitute_for_id)
    member = JuryMemberRow(
        session_id=session.id,
        name=name,
        seat=data.seat,
        observer=data.observer,
        titular=data.titular or data.observer,
        present=data.present,
        president=data.president and not data.observer,
        substitute_for_id=replaced.id if replaced is not None else None,
    )
    if member.president:
        for other in session.members:
            other.president = False
    session.members.append(member)
    db.flush()
    return member


def _titular(session: JurySession, member_id: int | None) -> JuryMemberRow:
    for member in session.members:
        if member.id == member_id and member.titular and not member.observer:
            return member
    raise _invalid(
        "Un suppléant remplace un titulaire déjà inscrit à cette session : choisissez-le."
    )


def remove_member(db: Session, session: JurySession, member_id: int) -> None:
    """Take a person off the draft session (substitutes of a removed titular stay, unlinked)."""
    _draft(session)
    member = next((m for m in session.members if m.id == member_id), None)
    if member is None:
        raise NotFoundError("Ce membre n'est pas inscrit à cette session.")
    for other in session.members:
        if other.substitute_for_id == member.id:
            other.substitute_for_id = None
    session.members.remove(member)
    db.flush()


def members_of(session: JurySession) -> list[JuryMember]:
    """The session's members (observers excluded) as the plugin's composition rules read them."""
    names = {m.id: m.name for m in session.members}
    return [
        JuryMember(
            name=m.name,
            seat=m.seat,
            titular=m.titular,
            present=m.present,
            president=m.president,
            substitute_for=names.get(m.substitute_for_id) if m.substitute_for_id else None,
        )
        for m in session.members
        if not m.observer
    ]


def composition_problems(plugin: CertificationPlugin, session: JurySession) -> list[JuryProblem]:
    """What keeps the recorded members from forming the jury the plugin declares."""
    referential = referential_of(plugin, session)
    return plugin.rules.certification_jury_problems(referential, members_of(session))


# -- candidates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A person with proposals under the session's version, and where they stand."""

    person: Person
    proposals: tuple[proposals.BlockProposal, ...]
    standing: Standing
    presented: JuryDecision | None


def candidates(db: Session, plugin: CertificationPlugin, session: JurySession) -> list[Candidate]:
    """Everyone with a complete proposal under the session's version, not yet certified,
    plus everyone presented; those whose conditions are met first."""
    presented = {d.person_id: d for d in session.decisions}
    by_person = proposals.proposals_by_person(db, plugin, session.organisation_id)
    found = []
    for person_id in sorted(set(by_person) | set(presented)):
        mine = tuple(
            p
            for p in by_person.get(person_id, [])
            if p.referential_version == session.referential_version
        )
        if not mine and person_id not in presented:
            continue
        standing = standing_of(
            db, plugin, session.organisation_id, person_id, session.referential_version
        )
        if standing.certified and person_id not in presented:
            continue
        person = db.get(Person, person_id)
        if person is not None:
            found.append(Candidate(person, mine, standing, presented.get(person_id)))
    found.sort(key=lambda c: (not c.standing.to_present, (c.person.name or c.person.sub).lower()))
    return found


def vae_candidates(db: Session, session: JurySession) -> list[Person]:
    """People of the organisation who may be presented by the VAE route (no proposal needed)."""
    presented = {d.person_id for d in session.decisions}
    people = db.scalars(
        select(Person)
        .join(Platform, Person.platform_id == Platform.id)
        .where(Platform.organisation_id == session.organisation_id)
        .order_by(Person.name, Person.sub)
    )
    return [p for p in people if p.id not in presented]


def _snapshot(found: tuple[proposals.BlockProposal, ...]) -> list[dict]:
    return [
        {
            "block": p.block_code,
            "complete": p.complete,
            "acquired": p.acquired,
            "decision_ids": [d.id for d in p.decisions],
            "pending": list(p.pending_epreuves),
        }
        for p in found
    ]


def present(
    db: Session,
    plugin: CertificationPlugin,
    session: JurySession,
    person_id: int,
    *,
    route: str,
    dossier_reference: str = "",
    recorder_id: int | None,
) -> JuryDecision:
    """Put a candidate before the jury, with the committee's proposals as they stand now."""
    _draft(session)
    jury = referential_of(plugin, session).certification_jury
    if route not in jury.routes:
        allowed = ", ".join(JURY_ROUTES[r] for r in jury.routes)
        raise _invalid(f"Voie d'accès non prévue pour ce jury (voies prévues : {allowed}).")
    person = db.get(Person, person_id)
    if person is None or person.platform.organisation_id != session.organisation_id:
        raise NotFoundError("Ce candidat n'est pas connu de votre organisme.")
    if any(d.person_id == person_id for d in session.decisions):
        raise ConflictError("Ce candidat est déjà présenté à cette session.", code="presented")
    mine = tuple(
        p
        for p in proposals.block_proposals(db, plugin, session.organisation_id, person_id)
        if p.referential_version == session.referential_version
    )
    dossier = dossier_reference.strip()
    if route == "evaluation" and not any(p.complete for p in mine):
        raise _invalid(
            "Ce candidat n'a aucune proposition complète du comité d'évaluation pour ce "
            "référentiel : présentez-le par la VAE ou attendez la proposition du comité."
        )
    if route == "vae" and not dossier:
        raise _invalid("Indiquez la référence du dossier de validation (VAE) du candidat.")
    if len(dossier) > NAME_MAX:
        raise _invalid(f"La référence du dossier tient en {NAME_MAX} caractères au plus.")
    if standing_of(
        db, plugin, session.organisation_id, person_id, session.referential_version
    ).certified:
        raise ConflictError("Ce candidat est déjà certifié.", code="already_certified")
    decision = JuryDecision(
        session_id=session.id,
        organisation_id=session.organisation_id,
        person_id=person_id,
        certification_code=session.certification_code,
        referential_version=session.referential_version,
        route=route,
        dossier_reference=dossier,
        proposals=_snapshot(mine) if route == "evaluation" else [],
        recorded_by_id=recorder_id,
    )
    session.decisions.append(decision)
    db.flush()
    return decision


def withdraw(db: Session, session: JurySession, decision_id: int) -> None:
    """Take a candidate off the draft session, with whatever was recorded for them."""
    _draft(session)
    decision = decision_in(session, decision_id)
    session.decisions.remove(decision)
    db.flush()


def decision_in(session: JurySession, decision_id: int) -> JuryDecision:
    """The session's decision with that id."""
    for decision in session.decisions:
        if decision.id == decision_id:
            return decision
    raise NotFoundError("Ce candidat n'est pas présenté à cette session.")


# -- decisions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """What the jury decided for one candidate."""

    outcome: str
    blocks: tuple[str, ...] = ()
    final_interview_passed: bool | None = None
    reason: str = ""


def proposed_blocks(decision: JuryDecision) -> set[str]:
    """The blocks the committee proposed acquired when the candidate was presented."""
    return {p["block"] for p in decision.proposals or [] if p.get("complete") and p.get("acquired")}


def decision_problems(
    db: Session,
    plugin: CertificationPlugin,
    session: JurySession,
    decision: JuryDecision,
    choice: Choice,
) -> list[str]:
    """Why this choice cannot be recorded, in French (empty: it can)."""
    referential = referential_of(plugin, session)
    jury = referential.certification_jury
    if choice.outcome not in jury.outcomes:
        allowed = ", ".join(JURY_OUTCOMES[o] for o in jury.outcomes)
        return [f"Choisissez la décision du jury parmi : {allowed}."]
    registration = registration_status(referential, session.held_on)
    if not registration.deliverable and choice.outcome != "absence_de_validation":
        return [
            f"{registration.message} Le jury ne peut plus valider de bloc ni délivrer cette "
            "certification à la date de la session."
        ]
    known = {block.code for block in referential.blocks}
    problems = [
        f"Le bloc « {code} » n'existe pas dans ce référentiel."
        for code in choice.blocks
        if code not in known
    ]
    standing = standing_of(
        db, plugin, session.organisation_id, decision.person_id, session.referential_version
    )
    validated = set(choice.blocks) - standing.held
    if validated and jury.committee_acquires and decision.route == "evaluation":
        problems.append(
            "Pour cette certification, les blocs sont acquis par le jury d'évaluation : le "
            f"{jury.label} ne valide pas de bloc (sauf en VAE)."
        )
    interview = referential.combination.final_interview
    if (
        interview
        and choice.outcome != "absence_de_validation"
        and choice.final_interview_passed is None
    ):
        problems.append("Indiquez le résultat de l'entretien final avec le candidat.")
    facts = {FINAL_INTERVIEW_FACT: bool(choice.final_interview_passed)}
    would_be = plugin.rules.certification_status(referential, standing.held | validated, facts)
    if choice.outcome == "validation_totale" and not would_be.granted:
        problems.append("Validation totale impossible : " + " ".join(would_be.missing))
    if choice.outcome == "validation_partielle":
        if not validated:
            problems.append("Une validation partielle valide au moins un bloc : cochez-le.")
        elif would_be.granted:
            problems.append(
                "Les blocs validés réunissent la certification : c'est une validation totale."
            )
    if choice.outcome == "absence_de_validation" and validated:
        problems.append("Une absence de validation ne valide aucun bloc : décochez les blocs.")
    if departs(decision, choice, standing) and not choice.reason.strip():
        problems.append(
            "La décision s'écarte des propositions du comité d'évaluation : motivez-la."
        )
    if len(choice.reason) > TEXT_MAX:
        problems.append(f"Le motif tient en {TEXT_MAX} caractères au plus.")
    return problems


def departs(decision: JuryDecision, choice: Choice, standing: Standing) -> bool:
    """Whether the jury decides otherwise than the committee proposed (VAE: no proposal)."""
    if decision.route != "evaluation":
        return False
    proposed = proposed_blocks(decision) - standing.held
    validated = set(choice.blocks) - standing.held
    if validated != proposed:
        return True
    # Blocks all held (Mutualité), yet the jury does not deliver the certification.
    return choice.outcome == "absence_de_validation" and standing.conditions_met


def record(
    db: Session,
    plugin: CertificationPlugin,
    session: JurySession,
    decision: JuryDecision,
    choice: Choice,
    recorder_id: int | None,
) -> JuryDecision:
    """Record (or change) the jury's decision for a candidate of the draft session."""
    _draft(session)
    problems = decision_problems(db, plugin, session, decision, choice)
    if problems:
        raise ServiceError(
            "La décision ne peut pas être enregistrée. " + " ".join(problems),
            code="jury_decision_refused",
            status=422,
            details={"problems": problems},
        )
    referential = referential_of(plugin, session)
    decision.outcome = choice.outcome
    order = [block.code for block in referential.blocks]
    decision.blocks = sorted(set(choice.blocks), key=order.index)
    decision.final_interview_passed = (
        choice.final_interview_passed if referential.combination.final_interview else None
    )
    decision.reason = choice.reason.strip()
    decision.recorded_by_id = recorder_id
    decision.recorded_at = dt.datetime.now(dt.UTC)
    db.flush()
    return decision


# -- minutes ------------------------------------------------------------------------------------


def signing_problems(plugin: CertificationPlugin, session: JurySession) -> list[str]:
    """Why the minutes cannot be signed yet, in French (empty: they can)."""
    problems = [problem.message for problem in composition_problems(plugin, session)]
    if not session.decisions:
        problems.append("Aucun candidat n'est présenté à cette session.")
    undecided = [d for d in session.decisions if d.outcome is None]
    if undecided:
        problems.append(f"{len(undecided)} candidat(s) présenté(s) sans décision du jury.")
    return problems


@dataclass(frozen=True)
class SignedSession:
    session: JurySession
    ledger_entries: tuple[LedgerEntry, ...]
    awards: tuple[CertificationAward, ...]


def sign_minutes(
    db: Session,
    plugin: CertificationPlugin,
    session: JurySession,
    signer_id: int,
    render: Callable[[JurySession], bytes],
    now: dt.datetime | None = None,
) -> SignedSession:
    """Sign the session's minutes and give its decisions their effect; the caller commits.
    ``now`` is the moment of signature (default: the clock)."""
    _draft(session)
    problems = signing_problems(plugin, session)
    if problems:
        raise ServiceError(
            "Le procès-verbal ne peut pas être signé. " + " ".join(problems),
            code="minutes_refused",
            status=422,
            details={"problems": problems},
        )
    _claim(db, session)
    now = now or dt.datetime.now(dt.UTC)
    session.status, session.signed_at, session.signed_by_id = "signed", now, signer_id
    entries: list[LedgerEntry] = []
    awards: list[CertificationAward] = []
    for decision in session.decisions:
        made = _apply(db, plugin, decision)
        entries += made[0]
        if made[1] is not None:
            awards.append(made[1])
        events.jury_decision_signed(db, decision, made[0], made[1])
    db.flush()
    pdf = render(session)
    session.minutes_pdf = pdf
    session.minutes_sha256 = hashlib.sha256(pdf).hexdigest()
    return SignedSession(session, tuple(entries), tuple(awards))


def _claim(db: Session, session: JurySession) -> None:
    """Take the draft for this signer only: a second signer finds it signed (409)."""
    result: Any = db.execute(
        update(JurySession)
        .where(JurySession.id == session.id, JurySession.status == "draft")
        .values(status="signed")
        .execution_options(synchronize_session=False)
    )
    claimed = result.rowcount
    if claimed != 1:
        db.rollback()
        raise ConflictError(
            "Le procès-verbal vient d'être signé par quelqu'un d'autre : rechargez la page.",
            code="session_signed",
        )


def _apply(
    db: Session, plugin: CertificationPlugin, decision: JuryDecision
) -> tuple[list[LedgerEntry], CertificationAward | None]:
    basis = {
        p["block"]: (p.get("decision_ids") or [None])[-1]
        for p in decision.proposals or []
        if p.get("acquired")
    }
    entries = []
    for block in decision.blocks or []:
        entry = ledger.record_jury_block(db, decision, block, basis.get(block))
        if entry is not None:
            entries.append(entry)
    award = None
    if decision.outcome == "validation_totale":
        award = ledger.award_from_jury(db, plugin, decision)
    return entries, award
