"""The dashboard's roster: the course's learners (NRPS) merged with their submissions.

The roster is read from the platform's NRPS endpoint and cached for a minute in the shared
store, so a trainer paging through filters does not call the LMS each time. When the platform
offers no roster or does not answer, the learners known from their submissions are shown,
with a notice saying so.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ltiservice.evaluations.decisions import standing_decision
from ltiservice.lti import adapter
from ltiservice.lti.roles import Role, map_roles
from ltiservice.lti.services import ServiceCallError, nrps_client
from ltiservice.models import Assessment, Course, Person, Platform, Submission

log = logging.getLogger(__name__)

ROSTER_TTL_S = 60

#: Learner states, in the order the dashboard lists them, with their French labels.
STATES: dict[str, str] = {
    "not_started": "Non commencé",
    "draft": "Brouillon",
    "submitted": "Remis",
    "under_evaluation": "En cours d'évaluation",
    "decided": "Décidé",
}


AWAITING_GRADING = ("submitted", "under_evaluation")


@dataclass(frozen=True)
class AttemptView:
    """One attempt of a learner, as the dashboard's history lists it."""

    submission_id: int
    attempt: int
    state: str
    acquired: bool | None = None

    @property
    def state_label(self) -> str:
        return STATES[self.state]

    @property
    def awaiting_grading(self) -> bool:
        return self.state in AWAITING_GRADING


@dataclass(frozen=True)
class LearnerRow:
    """One learner of the course and where their work stands.

    The row's attempt is the oldest one awaiting grading, whatever the learner opened since
    (a handed-in attempt is never hidden behind a newer draft), else the latest one;
    ``attempts`` is the learner's whole history, oldest first.
    """

    sub: str
    name: str
    state: str
    submission_id: int | None = None
    attempt: int | None = None
    acquired: bool | None = None  # for decided work: the standing decision's block result
    attempts: tuple[AttemptView, ...] = ()

    @property
    def state_label(self) -> str:
        return STATES[self.state]

    @property
    def to_grade(self) -> tuple[AttemptView, ...]:
        """Every handed-in attempt of the learner that awaits grading."""
        return tuple(a for a in self.attempts if a.awaiting_grading)


@dataclass(frozen=True)
class Dashboard:
    rows: tuple[LearnerRow, ...]
    counts: dict[str, int]
    roster_available: bool


def _members_of(course: Course, platform: Platform) -> list[dict[str, Any]] | None:
    """Active learners of the course as [{sub, name}], or None when NRPS cannot tell."""
    if not course.nrps_url:
        return None
    key = f"nrps-roster:{platform.id}:{course.id}"
    cached = adapter.store().get(key)
    if cached is not None:
        return list(cached)
    try:
        roster = nrps_client(platform).members(course.nrps_url)
    except ServiceCallError as exc:
        log.warning("roster of course %s unavailable: %s", course.id, exc.code)
        return None
    learners = [
        {"sub": m.user_id, "name": m.name or " ".join(filter(None, (m.given_name, m.family_name)))}
        for m in roster.members
        if m.status == "Active" and Role.LEARNER in map_roles(m.roles)
    ]
    adapter.store().set(key, learners, ROSTER_TTL_S)
    return learners


def _attempts(db: Session, assessment: Assessment) -> dict[int, list[Submission]]:
    """Every learner's attempts, oldest first."""
    attempts: dict[int, list[Submission]] = {}
    for submission in db.scalars(
        select(Submission)
        .where(Submission.assessment_id == assessment.id)
        .order_by(Submission.person_id, Submission.attempt)
    ):
        attempts.setdefault(submission.person_id, []).append(submission)
    return attempts


def _view(db: Session, submission: Submission) -> AttemptView:
    acquired = None
    if submission.status == "decided":
        decision = standing_decision(db, submission)
        acquired = decision.block_acquired if decision else None
    return AttemptView(submission.id, submission.attempt, submission.status, acquired)


def _row(db: Session, sub: str, name: str, submissions: list[Submission]) -> LearnerRow:
    if not submissions:
        return LearnerRow(sub, name, "not_started")
    history = tuple(_view(db, s) for s in submissions)
    waiting = [a for a in history if a.awaiting_grading]
    shown = waiting[0] if waiting else history[-1]
    return LearnerRow(
        sub, name, shown.state, shown.submission_id, shown.attempt, shown.acquired, history
    )


def build_dashboard(db: Session, assessment: Assessment) -> Dashboard:
    """Every learner of the course with their state, and the count per state."""
    course = assessment.course
    platform = db.get(Platform, assessment.platform_id)
    assert platform is not None
    members = _members_of(course, platform)
    attempts = _attempts(db, assessment)
    people = {
        p.sub: p
        for p in db.scalars(
            select(Person).where(
                Person.platform_id == assessment.platform_id,
                Person.id.in_(list(attempts)),
            )
        )
    }
    rows: list[LearnerRow] = []
    seen: set[str] = set()
    for member in members or []:
        person = people.get(member["sub"])
        history = attempts.get(person.id, []) if person else []
        name = member["name"] or (person.name if person and person.name else member["sub"])
        rows.append(_row(db, member["sub"], name, history))
        seen.add(member["sub"])
    # Learners who handed in work but are not (or no longer) in the roster still count.
    for sub, person in people.items():
        if sub not in seen:
            rows.append(_row(db, sub, person.name or sub, attempts[person.id]))
    rows.sort(key=lambda row: (row.name.casefold(), row.sub))
    counts = Counter(row.state for row in rows)
    return Dashboard(
        tuple(rows), {state: counts.get(state, 0) for state in STATES}, members is not None
    )
