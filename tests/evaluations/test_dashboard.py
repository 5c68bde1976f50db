"""The trainers' dashboard: the NRPS roster merged with submissions, states, counts, filters."""

from __future__ import annotations

from lxml import html
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import Decision, Person, Submission
from tests.evaluations.support import COURSE, hand_in, launch, place, text_of
from tests.support.lti_harness import INSTRUCTOR, LEARNER, LtiHarness


def _members(*subs: str) -> list[dict[str, object]]:
    learners = [{"user_id": sub, "name": f"Apprenant {sub}", "roles": [LEARNER]} for sub in subs]
    return [*learners, {"user_id": "trainer-1", "name": "Formatrice", "roles": [INSTRUCTOR]}]


def _decided(lti: LtiHarness, submission_id: int, acquired: bool) -> None:
    with lti.live.app.app_context():
        session = db.session()
        submission = session.get(Submission, submission_id)
        assert submission is not None
        session.add(
            Decision(
                organisation_id=submission.assessment.organisation_id,
                submission_id=submission.id,
                person_id=submission.person_id,
                certification_code="CRCA",
                referential_version="RNCP41351",
                block_code="B2B",
                verdicts={},
                competency_results=[],
                block_acquired=acquired,
                score_given=20.0 if acquired else 0.0,
                score_maximum=20.0,
                evaluators=[],
            )
        )
        session.commit()


def _table(page: object) -> dict[str, tuple[str, str, str]]:
    tree = html.fromstring(page.text)  # type: ignore[attr-defined]
    rows = {}
    for row in tree.xpath("//table[@class='roster']/tbody/tr[@data-sub]"):
        cells = [" ".join(c.text_content().split()) for c in row.xpath("th|td")]
        rows[row.get("data-sub")] = (cells[0], cells[1], cells[2])
    return rows


def _counts(page: object) -> dict[str, int]:
    tree = html.fromstring(page.text)  # type: ignore[attr-defined]
    return {
        a.get("data-state"): int(a.xpath("strong/text()")[0])
        for a in tree.xpath("//ul[@class='counts']//a")
    }


def test_dashboard_merges_the_roster_with_every_state(lti: LtiHarness) -> None:
    lti.peer.set_members(COURSE["id"], _members("l1", "l2", "l3", "l4", "l5", "l6"))
    assessment = place(lti, "B2B")
    hand_in(lti, assessment, "l2", status="draft")
    hand_in(lti, assessment, "l3", status="submitted")
    hand_in(lti, assessment, "l4", status="under_evaluation")
    _decided(lti, hand_in(lti, assessment, "l5", status="decided"), acquired=True)
    _decided(lti, hand_in(lti, assessment, "l6", status="decided"), acquired=False)
    # Handed in, then left the course: still on the dashboard.
    hand_in(lti, assessment, "gone", status="submitted")

    trainer = launch(lti, "trainer-1", nrps=True)  # the launch lands on the dashboard

    assert trainer.page.url.split("?")[0].endswith(f"/a/{assessment}/dashboard")
    rows = _table(trainer.page)
    assert rows == {
        "gone": ("Apprenant gone", "Remis", "—"),
        "l1": ("Apprenant l1", "Non commencé", "—"),
        "l2": ("Apprenant l2", "Brouillon", "—"),
        "l3": ("Apprenant l3", "Remis", "—"),
        "l4": ("Apprenant l4", "En cours d'évaluation", "—"),
        "l5": ("Apprenant l5", "Décidé", "Bloc acquis"),
        "l6": ("Apprenant l6", "Décidé", "Bloc non acquis"),
    }
    assert _counts(trainer.page) == {
        "not_started": 1,
        "draft": 1,
        "submitted": 2,
        "under_evaluation": 1,
        "decided": 2,
    }
    assert "n'a pas pu être obtenue" not in text_of(trainer.page)
    # Grading links only for handed-in work.
    links = html.fromstring(trainer.page.text).xpath("//tr[@data-sub='l2']//a")
    assert links == []

    submitted = trainer.get(f"/a/{assessment}/dashboard", etat="submitted")
    assert sorted(_table(submitted)) == ["gone", "l3"]
    assert "Apprenants à l'état « Remis » : 2" in text_of(submitted)
    assert sorted(_table(trainer.get(f"/a/{assessment}/dashboard", etat="nope"))) == sorted(rows)


def test_roster_is_cached_for_a_minute(lti: LtiHarness) -> None:
    lti.peer.set_members(COURSE["id"], _members("l1"))
    assessment = place(lti, "B2B")
    trainer = launch(lti, "trainer-1", nrps=True)
    lti.peer.set_members(COURSE["id"], _members("l1", "l2"))

    again = trainer.get(f"/a/{assessment}/dashboard")

    assert sorted(_table(again)) == ["l1"]
    calls = lti.peer.stats()["requests_by_path"]
    assert sum(n for path, n in calls.items() if "/memberships" in path) == 1


def test_without_a_roster_the_learners_known_from_submissions_show(lti: LtiHarness) -> None:
    lti.peer.set_members(COURSE["id"], _members("l1", "l2"))
    lti.peer.set_fault("/nrps/", 503, count=10)
    assessment = place(lti, "B2B")
    hand_in(lti, assessment, "l2", status="submitted")

    trainer = launch(lti, "trainer-1", nrps=True)

    assert trainer.page.status_code == 200
    assert "La liste des participants n'a pas pu être obtenue de la plateforme" in text_of(
        trainer.page
    )
    assert _table(trainer.page) == {"l2": ("Apprenant l2", "Remis", "—")}
    with lti.live.app.app_context():
        people = db.session().scalars(select(Person.sub)).all()
    assert "l1" not in people


def test_the_dashboard_warns_about_an_assessment_under_an_expired_registration(
    lti: LtiHarness,
) -> None:
    place(lti, "BC01", version="RNCP36140")
    page = launch(lti, "trainer-1", "BC01").page

    notice = html.fromstring(page.text).xpath("//section[@id='enregistrement-expire']")
    assert notice, "no warning on the dashboard"
    text = " ".join(notice[0].text_content().split())
    assert text.startswith("Enregistrement au RNCP terminé")
    assert "L'enregistrement au RNCP de la certification RNCP36140 a pris fin le 26/01/2025" in text
    assert "Note transmise au carnet de notes : acquis = note maximale, non acquis = 0." in (
        text_of(page)
    )


def test_no_warning_under_a_current_registration(lti: LtiHarness) -> None:
    place(lti, "B2B")
    page = launch(lti, "trainer-1", "B2B").page

    assert html.fromstring(page.text).xpath("//section[@id='enregistrement-expire']") == []
