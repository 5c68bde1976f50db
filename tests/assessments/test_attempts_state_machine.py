"""Learners, evaluators and the jury in random order (hypothesis' RuleBasedStateMachine).

Each step does what the pages offer at that moment, through the same service functions the
views call, on a real database: a learner writes, hands in, or opens a new attempt (blank or
from the previous text); an evaluator grades an attempt the dashboard lists as awaiting
grading; the jury signs a decision when its page would let it. After every step:
- every handed-in attempt that awaits grading is on the trainers' dashboard, to grade;
- what the learner's page offers succeeds, and what it does not offer is refused with a
  French `ConflictError`, never another error and never a stored change;
- a learner never has a draft while an attempt awaits grading, never an attempt after the
  block is acquired, never more attempts than allowed.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select

from ltiservice import db
from ltiservice.assessments import submissions
from ltiservice.errors import ConflictError
from ltiservice.evaluations import decisions, roster, service
from ltiservice.evaluations.forms import EvaluationInput
from ltiservice.evaluations.rubric import rubric_for
from ltiservice.models import Assessment, Course, Organisation, Person, Platform, Submission

LEARNERS = 3
MAX_ATTEMPTS = 3
ROLES = ("hierarchy", "other_service")


def _world(session: Any) -> tuple[int, list[int], list[int]]:
    token = secrets.token_hex(4)
    organisation = Organisation(slug=f"sm-{token}", name=f"OF {token}")
    session.add(organisation)
    session.flush()
    issuer = f"https://lms-{token}.example.org"
    platform = Platform(
        organisation_id=organisation.id,
        name="LMS",
        issuer=issuer,
        client_id=f"client-{token}",
        auth_login_url=f"{issuer}/auth",
        auth_token_url=f"{issuer}/token",
        key_set_url=f"{issuer}/jwks",
    )
    session.add(platform)
    session.flush()
    course = Course(platform_id=platform.id, context_id="c1", title="CQP CRCA")
    learners = [Person(platform_id=platform.id, sub=f"l{n}-{token}") for n in range(LEARNERS)]
    jury = [Person(platform_id=platform.id, sub=f"{role}-{token}") for role in ROLES]
    session.add_all([course, *learners, *jury])
    session.flush()
    assessment = Assessment(
        organisation_id=organisation.id,
        platform_id=platform.id,
        course_id=course.id,
        resource_id=f"res-{token}",
        resource_link_id=f"link-{token}",
        title="Étude de cas B2B",
        certification_code="CRCA",
        referential_version="RNCP41351",
        block_code="B2B",
        allowed_extensions=[".pdf"],
        max_attempts=MAX_ATTEMPTS,
        score_maximum=20.0,
    )
    session.add(assessment)
    session.commit()
    return assessment.id, [p.id for p in learners], [p.id for p in jury]


class Attempts(RuleBasedStateMachine):
    app: Flask  # set by the test

    def __init__(self) -> None:
        super().__init__()
        self.ctx = self.app.app_context()
        self.ctx.push()
        self.assessment_id, self.learners, self.jury = _world(db.session())

    def teardown(self) -> None:
        db.session().rollback()
        self.ctx.pop()

    # -- what the pages show -------------------------------------------------------------
    def _assessment(self, session: Any) -> Assessment:
        found = session.get(Assessment, self.assessment_id)
        assert found is not None
        return found

    def _attempts(self, person_id: int) -> list[Submission]:
        session = db.session()
        session.expire_all()
        return submissions.attempts_of(session, self._assessment(session), person_id)

    def _to_grade(self) -> list[int]:
        """The attempts the dashboard offers to grade."""
        session = db.session()
        board = roster.build_dashboard(session, self._assessment(session))
        return sorted(a.submission_id for row in board.rows for a in row.to_grade)

    # -- learners ------------------------------------------------------------------------
    @rule(who=st.integers(0, LEARNERS - 1), text=st.text(min_size=1, max_size=30))
    def write(self, who: int, text: str) -> None:
        person_id = self.learners[who]
        attempts = self._attempts(person_id)
        offered = not attempts or attempts[-1].status == "draft"  # the form is on the page
        before = [(a.id, a.status, a.text) for a in attempts]
        try:
            with db.transaction() as session:
                person = session.get(Person, person_id)
                draft = submissions.current_draft(session, self._assessment(session), person)
                submissions.autosave(session, draft, text)
        except ConflictError:
            assert not offered
            assert [(a.id, a.status, a.text) for a in self._attempts(person_id)] == before
        else:
            assert offered
            assert self._attempts(person_id)[-1].text == submissions.clean_text(text)

    @rule(who=st.integers(0, LEARNERS - 1))
    def hand_in(self, who: int) -> None:
        person_id = self.learners[who]
        attempts = self._attempts(person_id)
        if not attempts or attempts[-1].status != "draft" or not attempts[-1].text.strip():
            return  # no « Remettre » button on a page without a non-empty draft
        with db.transaction() as session:
            draft = session.get(Submission, attempts[-1].id)
            submissions.submit(session, draft)
        assert self._attempts(person_id)[-1].status == "submitted"

    @rule(who=st.integers(0, LEARNERS - 1), from_previous=st.booleans())
    def new_attempt(self, who: int, from_previous: bool) -> None:
        person_id = self.learners[who]
        session = db.session()
        rights = submissions.attempt_rights(session, self._assessment(session), person_id)
        before = self._attempts(person_id)
        if not before:
            return  # the page shows the form of attempt 1, not this button
        try:
            with db.transaction() as session:
                person = session.get(Person, person_id)
                submissions.start_new_attempt(
                    session, self._assessment(session), person, from_previous=from_previous
                )
        except ConflictError as refused:
            assert not rights.allowed and refused.message == rights.reason
            assert len(self._attempts(person_id)) == len(before)
            return
        after = self._attempts(person_id)
        if not rights.allowed:  # only an open draft is handed back, nothing created
            assert before[-1].status == "draft" and len(after) == len(before)
            return
        assert [a.attempt for a in after] == [*(a.attempt for a in before), before[-1].attempt + 1]
        assert after[-1].status == "draft"
        assert after[-1].text == (before[-1].text if from_previous else "")

    # -- evaluators and jury -------------------------------------------------------------
    @precondition(lambda self: bool(self._to_grade()))
    @rule(
        pick=st.integers(0, 50),
        seats=st.sampled_from([(0,), (1,), (0, 1)]),
        met=st.tuples(st.booleans(), st.booleans()),
    )
    def evaluate(self, pick: int, seats: tuple[int, ...], met: tuple[bool, bool]) -> None:
        """One evaluator, or both one after the other, sign their reading."""
        waiting = self._to_grade()
        submission_id = waiting[pick % len(waiting)]
        for seat in seats:
            with db.transaction() as session:
                submission = session.get(Submission, submission_id)
                rubric = rubric_for(submission.assessment)
                service.open_for_grading(session, submission)
                evaluation = service.draft_of(session, submission, self.jury[seat])
                if evaluation.status == "signed":
                    continue  # the page shows the signed reading, no form
                verdict = "met" if met[seat] else "not_met"
                data = EvaluationInput(
                    verdicts=dict.fromkeys(rubric.criterion_ids, verdict), jury_role=ROLES[seat]
                )
                service.save_evaluation(session, rubric, evaluation, data)
                service.sign_evaluation(session, rubric, evaluation)

    @precondition(lambda self: bool(self._to_grade()))
    @rule(pick=st.integers(0, 50))
    def jury_decides(self, pick: int) -> None:
        waiting = self._to_grade()
        submission_id = waiting[pick % len(waiting)]
        session = db.session()
        submission = session.get(Submission, submission_id)
        assert submission is not None
        rubric = rubric_for(submission.assessment)
        jury = decisions.jury_of(session, rubric, submission)
        data = decisions.DecisionInput(
            resolved=dict.fromkeys(jury.disagreements, "not_met"),
            resolution="Le jury retient l'appréciation la plus prudente."
            if jury.disagreements
            else "",
        )
        standing = decisions.standing_decision(session, submission)
        if decisions.decision_problems(rubric, jury, standing, data) or not jury.evaluations:
            session.rollback()
            return  # the page lists what is missing instead of a signing button
        with db.transaction() as session:
            submission = session.get(Submission, submission_id)
            decisions.sign_decision(session, rubric, submission, self.jury[0], data)
        assert submission_id not in self._to_grade()

    # -- invariants ----------------------------------------------------------------------
    @invariant()
    def every_handed_in_attempt_can_be_graded(self) -> None:
        session = db.session()
        session.expire_all()
        awaiting = sorted(
            session.scalars(
                select(Submission.id).where(
                    Submission.assessment_id == self.assessment_id,
                    Submission.status.in_(submissions.AWAITING_GRADING),
                )
            )
        )
        assert self._to_grade() == awaiting

    @invariant()
    def attempts_follow_the_rules(self) -> None:
        for person_id in self.learners:
            attempts = self._attempts(person_id)
            assert [a.attempt for a in attempts] == list(range(1, len(attempts) + 1))
            assert len(attempts) <= MAX_ATTEMPTS
            statuses = [a.status for a in attempts]
            assert statuses.count("draft") <= 1 and "draft" not in statuses[:-1]
            waiting = [s for s in statuses if s in submissions.AWAITING_GRADING]
            assert len(waiting) <= 1 and not ("draft" in statuses and waiting)
            session = db.session()
            for attempt in attempts[:-1]:  # an attempt after another only if it did not acquire
                standing = decisions.standing_decision(session, attempt)
                assert standing is not None and not standing.block_acquired


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_attempts_stay_gradable_and_the_pages_offer_only_what_works(app: Flask) -> None:
    Attempts.app = app
    machine = Attempts.TestCase
    machine.settings = settings(
        max_examples=25,
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    machine().runTest()
