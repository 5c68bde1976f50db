"""Scores reach the platform's gradebook exactly once in effect, whatever the platform does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from ltiservice import db, outbox
from ltiservice.grades import queue_score
from ltiservice.models import Assessment, Course, OutboxMessage, Person
from ltiservice.passback import deliverers

pytestmark = pytest.mark.peer


def _placed(lti, *, lineitems: bool = True) -> tuple[int, int]:
    """An assessment in course-1 of the peer and one learner; returns their ids."""
    with lti.live.app.app_context():
        session = db.session()
        course = Course(platform_id=lti.platform_id, context_id="course-1", title="CQP")
        person = Person(platform_id=lti.platform_id, sub="learner-7", name="Inès Moreau")
        session.add_all([course, person])
        session.flush()
        assessment = Assessment(
            organisation_id=course.platform.organisation_id,
            platform_id=lti.platform_id,
            course_id=course.id,
            resource_id="res-42",
            resource_link_id="link-42",
            title="Bloc 2B — sinistre",
            certification_code="CRCA",
            referential_version="RNCP41351",
            block_code="B2B",
            score_maximum=20,
            lineitems_url=f"{lti.peer.base_url}/ags/course-1/lineitems" if lineitems else None,
        )
        session.add(assessment)
        session.commit()
        return assessment.id, person.id


def _queue(lti, assessment_id: int, person_id: int, key: str, score: float | None) -> None:
    with lti.live.app.app_context():
        session = db.session()
        assessment = session.get(Assessment, assessment_id)
        person = session.get(Person, person_id)
        if score is None:
            queue_score(
                session,
                assessment,
                person,
                event_key=key,
                activity_progress="Submitted",
                grading_progress="PendingManual",
            )
        else:
            queue_score(
                session,
                assessment,
                person,
                event_key=key,
                score_given=score,
                activity_progress="Completed",
                grading_progress="FullyGraded",
                comment="Bloc 2B acquis — 6/6 compétences",
            )
        session.commit()


def _run(lti) -> outbox.RunReport:
    app = lti.live.app
    return outbox.run_once(app.extensions["db_sessionmaker"], deliverers(app))


def _make_due(lti) -> None:
    with lti.live.app.app_context():
        db.session().execute(
            update(OutboxMessage).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session().commit()


def _statuses(lti) -> list[tuple[str, int, str | None]]:
    with lti.live.app.app_context():
        rows = db.session().execute(
            select(OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.last_error).order_by(
                OutboxMessage.id
            )
        )
        return [tuple(r) for r in rows]


def test_submitted_then_graded_scores_arrive_with_their_values(lti):
    assessment_id, person_id = _placed(lti)
    _queue(lti, assessment_id, person_id, "submitted:1", None)
    _queue(lti, assessment_id, person_id, "decision:1", 17.5)
    report = _run(lti)
    assert report.delivered == 2

    scores = lti.peer.scores()
    assert [s["score"]["gradingProgress"] for s in scores] == ["PendingManual", "FullyGraded"]
    first, final = scores[0]["score"], scores[1]["score"]
    assert first["userId"] == "learner-7" and "scoreGiven" not in first
    assert final["scoreGiven"] == 17.5 and final["scoreMaximum"] == 20
    assert final["comment"] == "Bloc 2B acquis — 6/6 compétences"
    assert final["timestamp"] > first["timestamp"]
    items = lti.peer.line_items("course-1")
    assert len(items) == 1 and items[0]["resourceId"] == "res-42"
    assert items[0]["tag"] == "ltiservice:CRCA:B2B"


def test_a_platform_that_fails_then_recovers_gets_the_score_once(lti):
    assessment_id, person_id = _placed(lti)
    _queue(lti, assessment_id, person_id, "decision:1", 12.0)
    lti.peer.set_fault("/ags/course-1/lineitems", status=500, count=3)
    assert _run(lti).retried == 1
    [(status, attempts, error)] = _statuses(lti)
    assert status == "pending" and attempts == 1 and error
    for _ in range(3):
        _make_due(lti)
        _run(lti)
    assert [s for s, _, _ in _statuses(lti)] == ["delivered"]
    assert [s["score"]["scoreGiven"] for s in lti.peer.scores()] == [12.0]


def test_a_timeout_after_the_platform_stored_the_score_does_not_duplicate_it(lti):
    app = lti.live.app
    app.config["SETTINGS"] = type(app.config["SETTINGS"])(
        **{**app.config["SETTINGS"].__dict__, "http_timeout_s": 1.0}
    )
    app.extensions.pop("lti_tokens", None)
    assessment_id, person_id = _placed(lti)
    _queue(lti, assessment_id, person_id, "decision:1", 15.0)
    # Create the line item and token first so the fault hits the score post itself.
    lti.peer.set_fault("/ags/course-1/lineitems/", status="timeout", count=1, seconds=2)
    assert _run(lti).retried == 1
    _make_due(lti)
    assert _run(lti).delivered == 1  # 409: the platform already holds it
    assert [s["score"]["scoreGiven"] for s in lti.peer.scores()] == [15.0]


def test_an_unreachable_grade_service_is_dead_lettered_with_a_reason(lti):
    assessment_id, person_id = _placed(lti, lineitems=False)
    _queue(lti, assessment_id, person_id, "decision:1", 10.0)
    assert _run(lti).dead == 1
    [(status, _, error)] = _statuses(lti)
    assert status == "dead"
    assert "aucun service de notes" in error


def test_the_same_fact_queued_twice_is_one_delivery(lti):
    assessment_id, person_id = _placed(lti)
    _queue(lti, assessment_id, person_id, "decision:1", 10.0)
    _queue(lti, assessment_id, person_id, "decision:1", 10.0)
    assert len(_statuses(lti)) == 1


def test_tokens_are_reused_across_scores(lti):
    assessment_id, person_id = _placed(lti)
    _queue(lti, assessment_id, person_id, "decision:0", 0.0)
    assert _run(lti).delivered == 1
    after_first = lti.peer.stats()["tokens_issued"]
    for n in range(1, 6):
        _queue(lti, assessment_id, person_id, f"decision:{n}", float(n))
    assert _run(lti).delivered == 5
    assert 1 <= after_first <= 3  # one per scope set used (line items, score)
    assert lti.peer.stats()["tokens_issued"] == after_first


def test_a_platform_that_drops_connections_gets_the_score_once_it_is_back(lti):
    assessment_id, person_id = _placed(lti)
    _queue(lti, assessment_id, person_id, "decision:1", 9.0)
    lti.peer.set_fault("/ags/course-1/lineitems", status="close", count=2)
    assert _run(lti).retried == 1
    [(status, _, error)] = _statuses(lti)
    assert status == "pending" and error
    for _ in range(2):
        _make_due(lti)
        _run(lti)
    assert [s for s, _, _ in _statuses(lti)] == ["delivered"]
    assert [s["score"]["scoreGiven"] for s in lti.peer.scores()] == [9.0]
