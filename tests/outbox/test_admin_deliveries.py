"""Administrators see their organisation's failed deliveries, with the reason, and retry them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import html
from sqlalchemy import select

from ltiservice import db, outbox
from ltiservice.models import Assessment, Organisation, OutboxMessage, Person
from tests.assessments.learner_support import LINK, csrf_of, place
from tests.support.browser import launch_id_of
from tests.support.lti_harness import INSTRUCTOR, LEARNER

pytestmark = pytest.mark.peer

ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"


def _dead_score(lti, assessment_id: int, reason: str) -> int:
    with lti.live.app.app_context():
        session = db.session()
        assessment = session.get(Assessment, assessment_id)
        person = Person(platform_id=assessment.platform_id, sub="learner-9")
        session.add(person)
        session.flush()
        message = outbox.enqueue(
            session,
            organisation_id=assessment.organisation_id,
            kind="ags_score",
            destination=f"platform:{assessment.platform_id}",
            dedupe_key=f"ags:{assessment.id}:{person.id}:decision:1",
            payload={"assessment_id": assessment.id, "person_id": person.id, "score": {}},
        )
        message.status = "dead"
        message.last_error = reason
        # Another organisation's failure must never show here.
        other = Organisation(slug="autre-of", name="Autre OF")
        session.add(other)
        session.flush()
        outbox.enqueue(
            session,
            organisation_id=other.id,
            kind="xapi_statement",
            destination="lrs:99",
            dedupe_key="xapi:99:secret",
            payload={},
        ).status = "dead"
        session.commit()
        return message.id


def _launch(lti, sub, *roles):
    browser = lti.browser()
    page = lti.launch(lti.user(sub, *roles), browser=browser, resource_link=LINK, ags=True)
    return browser, page


def test_an_administrator_sees_failed_deliveries_and_retries_them(lti):
    assessment_id = place(lti)
    message_id = _dead_score(lti, assessment_id, "la plateforme a refusé la note (400)")
    browser, dashboard = _launch(lti, "admin-1", INSTRUCTOR, ADMINISTRATOR)
    assert dashboard.status_code == 200
    assert "1 note(s) n'ont pas pu être envoyées" in dashboard.text
    launch = launch_id_of(dashboard.url)

    page = browser.get(f"{lti.tool_url}/admin/deliveries", params={"launch": launch})
    assert page.status_code == 200
    tree = html.fromstring(page.text)
    assert tree.xpath("//td[@data-status='dead']/text()") == ["1"]
    assert "la plateforme a refusé la note (400)" in page.text
    assert "lrs:99" not in page.text  # another organisation's

    retried = browser.post(
        f"{lti.tool_url}/admin/deliveries/retry",
        data={"launch": launch, "csrf_token": csrf_of(page), "message": str(message_id)},
    )
    assert retried.status_code == 200
    assert "1 envoi remis en file : il partira" in retried.text
    with lti.live.app.app_context():
        statuses = dict(
            db.session().execute(select(OutboxMessage.dedupe_key, OutboxMessage.status)).all()
        )
        assert statuses["xapi:99:secret"] == "dead"  # untouched
        assert [s for k, s in statuses.items() if k.startswith("ags:")] == ["pending"]


@pytest.mark.parametrize("roles", [(INSTRUCTOR,), (LEARNER,)])
def test_trainers_and_learners_cannot_open_the_deliveries(lti, roles):
    assessment_id = place(lti)
    _dead_score(lti, assessment_id, "refus")
    browser, page = _launch(lti, "someone", *roles)
    launch = launch_id_of(page.url)
    refused = browser.get(f"{lti.tool_url}/admin/deliveries", params={"launch": launch})
    assert refused.status_code == 403
    assert "réservée aux administrateurs" in refused.text
    if roles == (INSTRUCTOR,):
        assert "Prévenez l'administrateur" in page.text


def test_a_retry_without_this_launchs_token_changes_nothing(lti):
    assessment_id = place(lti)
    _dead_score(lti, assessment_id, "refus")
    browser, dashboard = _launch(lti, "admin-1", INSTRUCTOR, ADMINISTRATOR)
    launch = launch_id_of(dashboard.url)
    for token in (None, "forged-token", "é"):
        data = {"launch": launch} if token is None else {"launch": launch, "csrf_token": token}
        refused = browser.post(f"{lti.tool_url}/admin/deliveries/retry", data=data)
        assert refused.status_code == 400
    with lti.live.app.app_context():
        assert outbox.counts(db.session()) == {"dead": 2}


def test_a_destination_failing_right_now_is_announced_with_its_waiting_deliveries(lti):
    assessment_id = place(lti)
    _dead_score(lti, assessment_id, "refus")
    browser, dashboard = _launch(lti, "admin-1", INSTRUCTOR, ADMINISTRATOR)
    launch = launch_id_of(dashboard.url)
    calm = browser.get(f"{lti.tool_url}/admin/deliveries", params={"launch": launch})
    with lti.live.app.app_context():
        session = db.session()
        assessment = session.get(Assessment, assessment_id)
        learner = session.scalar(select(Person).where(Person.sub == "learner-9"))
        for n in range(3):  # the LMS has been refusing the connection since Friday evening
            message = outbox.enqueue(
                session,
                organisation_id=assessment.organisation_id,
                kind="ags_score",
                destination=f"platform:{assessment.platform_id}",
                dedupe_key=f"ags:{assessment.id}:{learner.id}:submitted:{n}",
                payload={"assessment_id": assessment.id, "person_id": learner.id, "score": {}},
            )
            message.last_error = "plateforme injoignable (ConnectionError)"
            message.failing_since = datetime(2026, 11, 27, 18, 5, tzinfo=UTC)
        session.commit()

    page = browser.get(f"{lti.tool_url}/admin/deliveries", params={"launch": launch})

    assert "Destinataires injoignables" not in calm.text
    [alert] = html.fromstring(page.text).xpath("//*[@id='failing-destinations']")
    assert alert.get("role") == "alert"
    line = " ".join(alert.xpath("string(.//li)").split())
    assert line.startswith("La plateforme « ")
    assert "ne répond pas depuis le 27/11/2026 à 19:05 : 3 envois en attente" in line
    assert "(plateforme injoignable (ConnectionError))" in line
    assert line.endswith("après 72 h sans succès.")
