"""The certification jury's decision on a block updates the gradebook where it differs."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from ltiservice import db
from ltiservice.grades import queue_jury_block_result
from ltiservice.models import Assessment, OutboxMessage, Person
from tests.outbox.test_passback import _placed, _queue, _run

pytestmark = pytest.mark.peer

JURY = "Décision du jury paritaire du 12/03/2027 : bloc 2B validé"


def _jury(lti, assessment_id: int, person_id: int, key: str, **kw) -> bool:
    with lti.live.app.app_context():
        session = db.session()
        assessment = session.get(Assessment, assessment_id)
        person = session.get(Person, person_id)
        args = {"acquired": True, "competency_share": 5 / 6, "comment": JURY, **kw}
        queued = queue_jury_block_result(session, assessment, person, event_key=key, **args)
        session.commit()
        return queued


def _payloads(lti) -> list[dict]:
    with lti.live.app.app_context():
        rows = db.session().scalars(select(OutboxMessage.payload).order_by(OutboxMessage.id))
        return [p["score"] for p in rows]


def _mapping(lti, assessment_id: int, mapping: str) -> None:
    with lti.live.app.app_context():
        db.session().execute(
            update(Assessment).where(Assessment.id == assessment_id).values(grade_mapping=mapping)
        )
        db.session().commit()


def test_the_jury_decision_reaches_the_gradebook_through_the_mapping(lti):
    assessment_id, person_id = _placed(lti)
    _queue(lti, assessment_id, person_id, "decision:1", 0.0)  # the committee's 0/20

    assert _jury(lti, assessment_id, person_id, "jury:1:2B") is True

    committee, jury = _payloads(lti)
    assert jury["userId"] == "learner-7"
    assert (jury["activityProgress"], jury["gradingProgress"]) == ("Completed", "FullyGraded")
    assert (jury["scoreGiven"], jury["scoreMaximum"]) == (20.0, 20.0)
    assert jury["comment"] == f"{JURY}. Note : acquis = note maximale, non acquis = 0."
    assert jury["timestamp"] > committee["timestamp"]
    assert _run(lti).delivered == 2
    delivered = [s["score"] for s in lti.peer.scores()]
    assert [s["scoreGiven"] for s in delivered] == [0.0, 20.0]
    assert delivered[-1]["comment"] == jury["comment"]


def test_nothing_is_queued_when_the_gradebook_already_shows_the_jury_decision(lti):
    assessment_id, person_id = _placed(lti)
    assert _jury(lti, assessment_id, person_id, "jury:1:2B") is True

    # Same score and comment, whatever the event: the LMS holds it already.
    assert _jury(lti, assessment_id, person_id, "jury:2:2B") is False
    assert _jury(lti, assessment_id, person_id, "jury:1:2B") is False
    assert len(_payloads(lti)) == 1
    # A different comment is a different result to show.
    assert _jury(lti, assessment_id, person_id, "jury:3:2B", comment="Jury du 02/04/2027") is True
    assert len(_payloads(lti)) == 2


def test_a_share_mapping_scores_a_block_the_jury_refused_by_its_share(lti):
    assessment_id, person_id = _placed(lti)
    _mapping(lti, assessment_id, "competency_share")

    assert _jury(lti, assessment_id, person_id, "jury:1:2B", acquired=False) is True
    # Without a share (a jury decision with no submission) the decision mapping applies, and
    # the comment says so.
    assert (
        _jury(lti, assessment_id, person_id, "jury:2:2B", acquired=False, competency_share=None)
        is True
    )

    share, decision = _payloads(lti)
    assert (share["scoreGiven"], decision["scoreGiven"]) == (round(20 * 5 / 6, 4), 0.0)
    assert share["comment"].endswith("Note : part des compétences acquises.")
    assert decision["comment"].endswith("Note : acquis = note maximale, non acquis = 0.")


def test_a_score_the_platform_refused_for_good_is_not_what_the_lms_holds(lti):
    assessment_id, person_id = _placed(lti)
    assert _jury(lti, assessment_id, person_id, "jury:1:2B") is True
    with lti.live.app.app_context():
        db.session().execute(update(OutboxMessage).values(status="dead"))
        db.session().commit()

    assert _jury(lti, assessment_id, person_id, "jury:2:2B") is True
    assert len(_payloads(lti)) == 2
