"""Realistic export data built through the models: organisations, juries, decisions, ledger.

`build_cohort` lays out the scenario the export tests assert on (see its docstring); the
small `make_*` helpers build one row each, flushed so ids are known.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ltiservice.grading.loader import load_plugins
from ltiservice.models import (
    Assessment,
    CertificationAward,
    Course,
    Decision,
    Evaluation,
    JuryDecision,
    JurySession,
    LedgerEntry,
    Organisation,
    Person,
    Platform,
    Submission,
)

CERTIFICATION = "CRCA"
VERSION = "RNCP41351"
ALPHA_ISSUER = "https://lms.alpha.example"
BETA_ISSUER = "https://lms.beta.example"


def at(day: str, hour: int = 10) -> dt.datetime:
    """A UTC timestamp on a given day."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), dt.UTC)


def _add(db: Session, row: Any) -> Any:
    db.add(row)
    db.flush()
    return row


def make_organisation(db: Session, slug: str, issuer: str) -> tuple[Organisation, Platform]:
    organisation = _add(db, Organisation(slug=slug, name=f"Organisme {slug}"))
    platform = _add(
        db,
        Platform(
            organisation_id=organisation.id,
            name=f"LMS {slug}",
            issuer=issuer,
            client_id=f"client-{slug}",
            auth_login_url=f"{issuer}/auth",
            auth_token_url=f"{issuer}/token",
            key_set_url=f"{issuer}/jwks",
        ),
    )
    return organisation, platform


def make_person(
    db: Session, platform: Platform, sub: str, name: str | None = None, email: str | None = None
) -> Person:
    return _add(db, Person(platform_id=platform.id, sub=sub, name=name, email=email))


def make_assessment(
    db: Session, platform: Platform, course: Course, block: str, title: str
) -> Assessment:
    return _add(
        db,
        Assessment(
            organisation_id=platform.organisation_id,
            platform_id=platform.id,
            course_id=course.id,
            resource_id=f"res-{platform.id}-{block}-{course.id}",
            resource_link_id=f"link-{platform.id}-{block}-{course.id}",
            title=title,
            certification_code=CERTIFICATION,
            referential_version=VERSION,
            block_code=block,
        ),
    )


def competency_results(block: str, acquired: int) -> list[dict[str, Any]]:
    """The block's competencies from the referential; the first ``acquired`` are acquired."""
    referential = load_plugins()[CERTIFICATION].referential(VERSION)
    competencies = referential.block(block).competencies
    return [
        {"code": c.code, "acquired": i < acquired, "met": 1 if i < acquired else 0, "total": 1}
        for i, c in enumerate(competencies)
    ]


@dataclass
class Jury:
    """Evaluators with their roles; they sit on the submission day and the decision day."""

    seats: list[tuple[Person, str]]


def make_submission(
    db: Session, assessment: Assessment, person: Person, attempt: int, submitted: dt.datetime
) -> Submission:
    return _add(
        db,
        Submission(
            assessment_id=assessment.id,
            person_id=person.id,
            attempt=attempt,
            status="decided",
            text="Réponse au cas.",
            submitted_at=submitted,
        ),
    )


def make_decision(
    db: Session,
    submission: Submission,
    jury: Jury,
    *,
    acquired: int,
    decided: dt.datetime,
    supersedes: Decision | None = None,
    reason: str | None = None,
) -> Decision:
    """A signed decision with its signed evaluations; ``acquired`` competencies acquired."""
    assessment = submission.assessment
    results = competency_results(assessment.block_code, acquired)
    evaluators = []
    for person, role in jury.seats:
        evaluation = (
            _add(
                db,
                Evaluation(
                    submission_id=submission.id,
                    evaluator_id=person.id,
                    jury_role=role,
                    session_dates=[
                        submission.submitted_at.date().isoformat(),
                        decided.date().isoformat(),
                    ],
                    verdicts={},
                    status="signed",
                    signed_at=decided,
                ),
            )
            if supersedes is None
            else _existing_evaluation(db, submission, person)
        )
        evaluators.append(
            {
                "person_id": person.id,
                "name": person.name,
                "role": role,
                "evaluation_id": evaluation.id,
            }
        )
    block_acquired = all(r["acquired"] for r in results)
    return _add(
        db,
        Decision(
            organisation_id=assessment.organisation_id,
            submission_id=submission.id,
            person_id=submission.person_id,
            certification_code=assessment.certification_code,
            referential_version=assessment.referential_version,
            block_code=assessment.block_code,
            verdicts={},
            competency_results=results,
            block_acquired=block_acquired,
            score_given=20.0 * acquired / len(results),
            score_maximum=20.0,
            evaluators=evaluators,
            decided_at=decided,
            supersedes_id=supersedes.id if supersedes else None,
            correction_reason=reason,
        ),
    )


def _existing_evaluation(db: Session, submission: Submission, person: Person) -> Evaluation:
    return db.query(Evaluation).filter_by(submission_id=submission.id, evaluator_id=person.id).one()


def make_ledger_entry(db: Session, decision: Decision) -> LedgerEntry:
    return _add(
        db,
        LedgerEntry(
            organisation_id=decision.organisation_id,
            person_id=decision.person_id,
            certification_code=decision.certification_code,
            referential_version=decision.referential_version,
            block_code=decision.block_code,
            decision_id=decision.id,
            acquired_at=decision.decided_at,
        ),
    )


def make_award(db: Session, decision: Decision) -> CertificationAward:
    """The certification jury's award, in a session signed the day of the last proposal:
    only such awards are declared."""
    session = _add(
        db,
        JurySession(
            organisation_id=decision.organisation_id,
            certification_code=decision.certification_code,
            referential_version=decision.referential_version,
            body="jury_paritaire",
            held_on=decision.decided_at.date(),
            status="signed",
            signed_at=decision.decided_at,
        ),
    )
    jury_decision = _add(
        db,
        JuryDecision(
            session_id=session.id,
            organisation_id=decision.organisation_id,
            person_id=decision.person_id,
            certification_code=decision.certification_code,
            referential_version=decision.referential_version,
            outcome="validation_totale",
            proposals=[
                {
                    "block": decision.block_code,
                    "complete": True,
                    "acquired": True,
                    "decision_ids": [decision.id],
                }
            ],
        ),
    )
    return _add(
        db,
        CertificationAward(
            organisation_id=decision.organisation_id,
            person_id=decision.person_id,
            certification_code=decision.certification_code,
            referential_version=decision.referential_version,
            jury_decision_id=jury_decision.id,
            granted_at=decision.decided_at,
        ),
    )


def build_cohort(db: Session) -> dict[str, Any]:
    """Organisation ``of-alpha`` (CRCA RNCP41351, course "Promo 2025"):

    - Camille Dupont (``learner-1``, name and email known): B1 acquired on 2025-06-10, B2A
      acquired on 2025-06-20, which grants the certification (award on 2025-06-20).
    - ``learner-2`` (no name): B1 not acquired on 2025-06-11 (6/11), corrected on 2025-06-12
      to acquired with the reason "=erreur de saisie" (a formula-looking text).
    - Dominique Martin (``learner-3``): B1 not acquired on 2025-07-05 (outside June), and
      B2B acquired then B1 acquired on appeal in July: certification awarded on 2025-07-08.
    Jury: Émile Évaluateur (hierarchy) and Berthe Jury (other_service).

    Organisation ``of-beta`` (another LMS, a learner with the SAME sub ``learner-1``):
    B1 acquired on 2025-06-10, award on 2025-06-15. It must never appear in alpha's exports.
    """
    alpha, alpha_lms = make_organisation(db, "of-alpha", ALPHA_ISSUER)
    course = _add(db, Course(platform_id=alpha_lms.id, context_id="course-1", title="Promo 2025"))
    b1 = make_assessment(db, alpha_lms, course, "B1", "Étude de cas bloc 1")
    b2a = make_assessment(db, alpha_lms, course, "B2A", "Étude de cas bloc 2A")
    b2b = make_assessment(db, alpha_lms, course, "B2B", "Étude de cas bloc 2B")
    jury = Jury(
        [
            (make_person(db, alpha_lms, "trainer-1", "Émile Évaluateur"), "hierarchy"),
            (make_person(db, alpha_lms, "trainer-2", "Berthe Jury"), "other_service"),
        ]
    )
    camille = make_person(db, alpha_lms, "learner-1", "Camille Dupont", "camille@alpha.example")
    anonymous = make_person(db, alpha_lms, "learner-2")
    dominique = make_person(db, alpha_lms, "learner-3", "Dominique Martin")
    ids: dict[str, Any] = {"alpha": alpha.id, "b1": b1.id, "course": course.id}

    s = make_submission(db, b1, camille, 1, at("2025-06-01"))
    ids["camille_b1"] = d = make_decision(db, s, jury, acquired=11, decided=at("2025-06-10"))
    make_ledger_entry(db, d)
    s = make_submission(db, b2a, camille, 1, at("2025-06-15"))
    ids["camille_b2a"] = d = make_decision(db, s, jury, acquired=4, decided=at("2025-06-20"))
    make_ledger_entry(db, d)
    ids["camille_award"] = make_award(db, d)

    s = make_submission(db, b1, anonymous, 1, at("2025-06-02"))
    first = make_decision(db, s, jury, acquired=6, decided=at("2025-06-11"))
    ids["anon_first"] = first
    ids["anon_fixed"] = d = make_decision(
        db,
        s,
        jury,
        acquired=11,
        decided=at("2025-06-12"),
        supersedes=first,
        reason="=erreur de saisie",
    )
    make_ledger_entry(db, d)

    s = make_submission(db, b1, dominique, 1, at("2025-07-01"))
    ids["dominique_b1"] = make_decision(db, s, jury, acquired=3, decided=at("2025-07-05"))
    s = make_submission(db, b2b, dominique, 1, at("2025-07-02"))
    d = make_decision(db, s, jury, acquired=6, decided=at("2025-07-06"))
    make_ledger_entry(db, d)
    s = make_submission(db, b1, dominique, 2, at("2025-07-07"))
    ids["dominique_b1_again"] = d = make_decision(
        db, s, jury, acquired=11, decided=at("2025-07-08")
    )
    make_ledger_entry(db, d)
    ids["dominique_award"] = make_award(db, d)

    beta, beta_lms = make_organisation(db, "of-beta", BETA_ISSUER)
    beta_course = _add(db, Course(platform_id=beta_lms.id, context_id="course-1"))
    beta_b1 = make_assessment(db, beta_lms, beta_course, "B1", "Bloc 1 (beta)")
    beta_jury = Jury([(make_person(db, beta_lms, "beta-trainer", "Zoé Bêta"), "hierarchy")])
    beta_learner = make_person(db, beta_lms, "learner-1", "Intrus Beta")
    s = make_submission(db, beta_b1, beta_learner, 1, at("2025-06-01"))
    d = make_decision(db, s, beta_jury, acquired=11, decided=at("2025-06-10"))
    make_ledger_entry(db, d)
    ids["beta_award"] = make_award(db, d)
    ids["beta"] = beta.id
    return ids
