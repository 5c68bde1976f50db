"""The certification chain: committees propose, the certification jury decides in a session,
and only its signed decisions are capitalised, awarded and declared.

Every step goes through the real pages, launched from the real Open edX LTI peer.
"""

from __future__ import annotations

from typing import Any

import pytest
from lxml import html
from sqlalchemy import select

from ltiservice import db
from ltiservice.exports.accrochage import cohort
from ltiservice.exports.records import Scope
from ltiservice.exports.scope import Period
from ltiservice.models import (
    CertificationAward,
    Decision,
    JuryDecision,
    JuryMemberRow,
    JurySession,
    LedgerEntry,
    OutboxMessage,
    Person,
)
from tests.evaluations.support import (
    Visitor,
    criteria,
    errors_of,
    hand_in,
    launch,
    learner,
    paths,
    place,
    text_of,
    verdict_form,
)
from tests.support.lti_harness import LtiHarness

pytestmark = pytest.mark.peer

ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
CRCA_ROLES = ("hierarchy", "other_service")
MUTUALITE = {"certification": "MUTUALITE", "version": "RNCP39866"}
MUTUALITE_ROLES = ("expert", "professional")


def _rows(lti: LtiHarness, model: Any, **where: Any) -> list[Any]:
    with lti.live.app.app_context():
        return list(db.session().scalars(select(model).filter_by(**where).order_by(model.id)))


def _placed(lti: LtiHarness, block: str, certification: str, version: str) -> int:
    """The block's assessment, placed on first use (learners share it)."""
    from ltiservice.models import Assessment

    with lti.live.app.app_context():
        found = db.session().scalar(
            select(Assessment.id).where(Assessment.resource_link_id == f"link-{block}")
        )
    return found or place(lti, block, certification=certification, version=version)


def _propose(
    lti: LtiHarness,
    block: str,
    sub: str,
    *,
    met: bool = True,
    certification: str = "CRCA",
    version: str = "RNCP41351",
    roles: tuple[str, str] = CRCA_ROLES,
) -> str:
    """The committee's signed decision on ``sub``'s work for ``block``; its comment."""
    assessment = _placed(lti, block, certification, version)
    url = paths(assessment, hand_in(lti, assessment, sub))
    ids = criteria(block, version, certification)
    overrides = {} if met else {ids[0]: "not_met"}
    evaluator = None
    for index, role in enumerate(roles):
        evaluator = launch(lti, f"eval-{index}-{block}", block)
        evaluator.page = evaluator.get(url["grade"])
        fields = verdict_form(ids, "met", role=role, **overrides) + [
            ("session_dates", day) for day in ("2024-11-04", "2024-11-18", "2024-12-02")
        ]  # three observation sessions on different dates (RNCP36140's committee)
        signed = evaluator.post(url["sign"], fields)
        assert "Évaluation signée" in text_of(signed), errors_of(signed)
    assert evaluator is not None
    evaluator.page = evaluator.get(url["decision"])
    page = evaluator.post(url["decision"], {"expected_decision": ""})
    assert page.status_code == 200, errors_of(page)
    return text_of(page)


def _path_page(lti: LtiHarness, sub: str) -> str:
    """The learner's « mon parcours », reached from the first assessment they handed in to."""
    with lti.live.app.app_context():
        decision = db.session().scalar(
            select(Decision)
            .join(Person, Decision.person_id == Person.id)
            .where(Person.sub == sub)
            .order_by(Decision.id)
            .limit(1)
        )
        assert decision is not None
        assessment_id, block = decision.submission.assessment_id, decision.block_code
    return text_of(learner(lti, sub, block).get(f"/a/{assessment_id}/path"))


def _person_id(lti: LtiHarness, sub: str) -> int:
    with lti.live.app.app_context():
        person = db.session().scalar(select(Person).where(Person.sub == sub))
        assert person is not None
        return person.id


class Secretary:
    """The jury secretary's browser on the jury pages (an LTI Administrator launch)."""

    def __init__(self, lti: LtiHarness, block: str = "B1") -> None:
        self.visitor: Visitor = launch(lti, "secretaire", block, roles=(ADMINISTRATOR,))
        self.visitor.page = self.visitor.get("/jury/")
        assert self.visitor.page.status_code == 200, self.visitor.page.text[:500]
        self.session_id = 0

    def open(self, certification: str = "CRCA", version: str = "") -> Any:
        page = self.visitor.post(
            "/jury/sessions",
            {"certification": certification, "version": version, "held_on": "2026-12-10"},
        )
        assert page.status_code == 200, errors_of(page)
        self.session_id = int(page.url.split("/jury/sessions/")[1].split("?")[0].split("#")[0])
        self.visitor.page = page
        return page

    def post(self, path: str, data: dict[str, Any] | list[tuple[str, str]] | None = None) -> Any:
        page = self.visitor.post(f"/jury/sessions/{self.session_id}{path}", data)
        if page.status_code == 200:
            self.visitor.page = page
        return page

    def member(self, name: str, seat: str, **extra: str) -> Any:
        return self.post("/members", {"name": name, "seat": seat, "present": "on", **extra})

    def present(self, person_id: int, route: str = "evaluation", **extra: str) -> Any:
        return self.post("/candidates", {"person": str(person_id), "route": route, **extra})

    def decide(self, jury_decision_id: int, outcome: str, blocks: list[str], **extra: str) -> Any:
        fields = [("outcome", outcome)] + [("block", b) for b in blocks] + list(extra.items())
        return self.post(f"/candidates/{jury_decision_id}", fields)

    def sign(self) -> Any:
        return self.post("/sign", {"confirm": "on"})


def _jury_decision(lti: LtiHarness, person_id: int) -> int:
    rows = _rows(lti, JuryDecision, person_id=person_id)
    assert rows, "candidate not presented"
    return rows[-1].id


def test_committee_proposals_capitalise_nothing_and_never_certify(lti: LtiHarness) -> None:
    """FAQ CRCA: « Le dossier du candidat est étudié par le jury paritaire qui se prononce sur
    l'obtention du CQP. » The committee's decisions are proposals: no ledger, no award."""
    first = _propose(lti, "B1", "learner-a")
    _propose(lti, "B2B", "learner-a")

    assert "Décision signée : Bloc B1 acquis" in first
    (proposal,) = [
        m.payload["score"]
        for m in _rows(lti, OutboxMessage, kind="ags_score")
        if m.payload["score"]["comment"].startswith("Bloc B1")
    ]
    assert (
        "Proposition du comité d'évaluation, en attente de la décision du jury"
        in (proposal["comment"])
    )
    assert _rows(lti, LedgerEntry) == []
    assert _rows(lti, CertificationAward) == []
    page = _path_page(lti, "learner-a")
    assert "Conditions réunies — à présenter au jury" in page
    assert "B1 — " in page and "proposé, en attente du jury" in page
    assert "Certification obtenue" not in page


def test_a_crca_session_decides_capitalises_awards_and_declares(lti: LtiHarness) -> None:
    """FAQ CRCA: « Le jury paritaire national peut décider d'attribuer : une validation totale,
    une validation partielle par bloc(s), ou bien une absence de validation. En cas de
    validation partielle par bloc(s), les compétences sont acquises définitivement. »"""
    _propose(lti, "B1", "learner-a")
    _propose(lti, "B2B", "learner-a")
    _propose(lti, "B1", "learner-b")
    _propose(lti, "B2B", "learner-b", met=False)
    a, b = _person_id(lti, "learner-a"), _person_id(lti, "learner-b")

    secretary = Secretary(lti)
    secretary.open()
    ready = text_of(secretary.visitor.page)
    assert "Apprenant learner-a — conditions réunies — à présenter au jury" in ready
    assert "Apprenant learner-b — conditions non réunies" in ready

    assert secretary.member("Claire Salariée", "employees", president="on").status_code == 200
    assert secretary.present(a).status_code == 200
    assert secretary.present(b).status_code == 200
    da, db_ = _jury_decision(lti, a), _jury_decision(lti, b)
    assert secretary.decide(da, "validation_totale", ["B1", "B2B"]).status_code == 200

    # Departing from the proposals (B2B proposed not acquired) needs a reason.
    refused = secretary.decide(db_, "validation_partielle", ["B1", "B2B"])
    assert refused.status_code == 422
    assert any("motivez-la" in e for e in errors_of(refused))
    assert secretary.decide(db_, "validation_partielle", ["B1"]).status_code == 200

    # The composition check refuses a jury without the employers' delegation.
    refused = secretary.sign()
    assert refused.status_code == 422
    problems = " ".join(errors_of(refused))
    assert (
        "Siège « Représentant des organisations d'employeurs » : 1 membre(s) siégeant" in problems
    )
    assert "autant de membres siégeant" in problems
    assert _rows(lti, LedgerEntry) == [] and _rows(lti, CertificationAward) == []
    assert _rows(lti, JurySession)[0].status == "draft"

    assert secretary.member("Marc Employeur", "employers").status_code == 200
    signed = secretary.sign()
    assert signed.status_code == 200, errors_of(signed)
    assert (
        "Procès-verbal signé : 2 décision(s) du jury, 3 bloc(s) capitalisé(s), 1 certification(s)"
        in text_of(signed)
    )

    # The gradebook now shows the jury's decision on each proposed block.
    jury_scores = {
        m.dedupe_key.rsplit(":", 1)[-1] + "/" + m.payload["score"]["userId"]: m.payload["score"]
        for m in _rows(lti, OutboxMessage, kind="ags_score")
        if ":jurydecision:" in m.dedupe_key
    }
    assert sorted(jury_scores) == ["B1/learner-a", "B1/learner-b", "B2B/learner-a", "B2B/learner-b"]
    refused_b2b = jury_scores["B2B/learner-b"]
    assert refused_b2b["scoreGiven"] == 0.0 and refused_b2b["gradingProgress"] == "FullyGraded"
    assert refused_b2b["comment"].startswith(
        "Bloc B2B non validé par le Jury paritaire national (CPNFPE) (session du 10/12/2026)"
    )
    assert jury_scores["B1/learner-b"]["scoreGiven"] == 20.0

    entries = _rows(lti, LedgerEntry)
    assert sorted((e.person_id, e.block_code, e.body) for e in entries) == [
        (a, "B1", "certification_jury"),
        (a, "B2B", "certification_jury"),
        (b, "B1", "certification_jury"),
    ]
    assert all(e.jury_decision_id and e.decision_id for e in entries)
    (award,) = _rows(lti, CertificationAward)
    assert (award.person_id, award.jury_decision_id, award.decision_id) == (a, da, None)
    session = _rows(lti, JurySession)[0]
    assert session.minutes_pdf is not None and session.minutes_pdf.startswith(b"%PDF")

    with lti.live.app.app_context():
        plugin = lti.live.app.extensions["plugins"]["CRCA"]
        scope = Scope(session.organisation_id, "of-test", plugin, Period())
        passages = cohort(db.session(), scope, session.id)
    assert [p.award_id for p in passages] == [award.id]

    minutes = secretary.visitor.get(f"/jury/sessions/{session.id}/minutes.pdf")
    assert minutes.status_code == 200 and minutes.content == session.minutes_pdf

    # A signed session is closed.
    late = secretary.member("Retardataire", "employees")
    assert late.status_code == 409
    assert len(_rows(lti, JuryMemberRow)) == 2

    # « Mon parcours » shows what the jury validated, and certified only whom it awarded.
    text = _path_page(lti, "learner-b")
    assert "Certification obtenue" not in text and "Conditions réunies" not in text
    assert "Certification obtenue (décision du jury de certification)" in _path_page(
        lti, "learner-a"
    )


def test_a_substitute_sits_only_for_an_absent_titular(lti: LtiHarness) -> None:
    """FAQ CRCA: « Le suppléant ne peut siéger au jury qu'en l'absence du titulaire qu'il
    remplace. »"""
    _propose(lti, "B1", "learner-a")
    secretary = Secretary(lti)
    secretary.open()
    secretary.member("Titulaire Salarié", "employees", president="on")
    secretary.member("Employeur", "employers")
    (titular,) = _rows(lti, JuryMemberRow, seat="employees")
    secretary.post(
        "/members",
        {
            "name": "Suppléant",
            "seat": "employees",
            "kind": "substitute",
            "substitute_for": str(titular.id),
            "present": "on",
        },
    )
    a = _person_id(lti, "learner-a")
    secretary.present(a)
    secretary.decide(_jury_decision(lti, a), "validation_partielle", ["B1"])

    refused = secretary.sign()

    assert refused.status_code == 422
    assert any(
        "le suppléant ne siège qu'en l'absence du titulaire" in e for e in errors_of(refused)
    )
    assert _rows(lti, LedgerEntry) == []


def test_mutualite_the_jury_de_delivrance_records_the_final_interview(lti: LtiHarness) -> None:
    """Fiche RNCP39866: « Chaque bloc peut être obtenu séparément dès lors que le candidat valide
    100% des compétences du bloc … Le jury de délivrance effectue un entretien final pour
    valider et délivrer la certification. »"""
    for block in ("BC01", "BC02", "BC03", "BC04"):
        _propose(lti, block, "learner-m", roles=MUTUALITE_ROLES, **MUTUALITE)
    entries = _rows(lti, LedgerEntry)
    assert [(e.block_code, e.body) for e in entries] == [
        (code, "evaluation_committee") for code in ("BC01", "BC02", "BC03", "BC04")
    ]
    assert _rows(lti, CertificationAward) == []
    m = _person_id(lti, "learner-m")

    secretary = Secretary(lti)
    secretary.open("MUTUALITE")
    secretary.member("Représentant employeur", "employers")
    secretary.member("Représentant syndical", "employees")
    secretary.post(
        "/members",
        {"name": "Secrétariat CPNEFP", "seat": "secretariat", "kind": "observer", "present": "on"},
    )
    secretary.present(m)
    decision = _jury_decision(lti, m)

    refused = secretary.decide(decision, "validation_totale", [])
    assert refused.status_code == 422
    assert "Indiquez le résultat de l'entretien final avec le candidat." in errors_of(refused)
    assert (
        secretary.decide(decision, "validation_totale", [], final_interview="passed").status_code
        == 200
    )
    signed = secretary.sign()
    assert signed.status_code == 200, errors_of(signed)

    (award,) = _rows(lti, CertificationAward)
    assert award.jury_decision_id == decision
    assert len(_rows(lti, LedgerEntry)) == 4  # the jury de délivrance adds no block


def test_the_vae_route_presents_a_dossier_whose_blocks_the_jury_validates(lti: LtiHarness) -> None:
    """FAQ CRCA: « La VAE permet d'obtenir le CQP CRCA ou l'un des deux blocs de compétences. »"""
    place(lti, "B1")
    learner(lti, "candidat-vae", "B1")  # known to the organisation, no submission
    person = _person_id(lti, "candidat-vae")
    secretary = Secretary(lti)
    secretary.open()
    secretary.member("Salarié", "employees", president="on")
    secretary.member("Employeur", "employers")

    refused = secretary.present(person, "vae")
    assert refused.status_code == 422
    assert "Indiquez la référence du dossier de validation (VAE) du candidat." in errors_of(refused)
    assert secretary.present(person, "vae", dossier_reference="VAE-2026-014").status_code == 200
    assert (
        secretary.decide(_jury_decision(lti, person), "validation_partielle", ["B1"]).status_code
        == 200
    )
    assert secretary.sign().status_code == 200

    (entry,) = _rows(lti, LedgerEntry)
    assert (entry.block_code, entry.body, entry.decision_id) == ("B1", "certification_jury", None)


def test_the_jury_pages_are_for_administrators_of_the_organisation(lti: LtiHarness) -> None:
    place(lti, "B1")
    trainer = launch(lti, "formateur", "B1")
    assert trainer.get("/jury/").status_code == 403
    secretary = Secretary(lti)
    secretary.open()
    student = learner(lti, "curieux", "B1")
    assert student.get(f"/jury/sessions/{secretary.session_id}").status_code == 403
    other = _other_organisation(lti)
    with lti.live.app.app_context():
        session = db.session().get(JurySession, secretary.session_id)
        assert session is not None
        session.organisation_id = other
        db.session().commit()
    assert secretary.visitor.get(f"/jury/sessions/{secretary.session_id}").status_code == 404


def _other_organisation(lti: LtiHarness) -> int:
    from ltiservice.models import Organisation

    with lti.live.app.app_context():
        other = Organisation(slug="autre-of", name="Autre OF")
        db.session().add(other)
        db.session().commit()
        return other.id


def test_the_session_page_has_labelled_forms(lti: LtiHarness) -> None:
    secretary = Secretary(lti)
    page = secretary.open()
    tree = html.fromstring(page.text)
    for field in tree.xpath("//form//input[not(@type='hidden')]|//form//select|//form//textarea"):
        field_id = field.get("id")
        assert field_id and tree.xpath(f"//label[@for='{field_id}']"), html.tostring(field)[:200]


JURY_POSTS = (
    ("jury.create_session", "/jury/sessions"),
    ("jury.add_member", "/jury/sessions/{s}/members"),
    ("jury.remove_member", "/jury/sessions/{s}/members/{m}/remove"),
    ("jury.present", "/jury/sessions/{s}/candidates"),
    ("jury.decide", "/jury/sessions/{s}/candidates/{d}"),
    ("jury.withdraw", "/jury/sessions/{s}/candidates/{d}/withdraw"),
    ("jury.sign", "/jury/sessions/{s}/sign"),
    ("jury.accrochage", "/jury/sessions/{s}/accrochage"),
)


def test_every_jury_change_needs_this_launch_s_token(lti: LtiHarness) -> None:
    """No side effect before authorisation: a post without the launch's CSRF token is a 400
    and changes nothing (a sign or an export included)."""
    _propose(lti, "B1", "learner-a")
    secretary = Secretary(lti)
    secretary.open()
    secretary.member("Salariée", "employees", president="on")
    secretary.member("Employeur", "employers")
    person = _person_id(lti, "learner-a")
    secretary.present(person)
    decision = _jury_decision(lti, person)
    secretary.decide(decision, "validation_partielle", ["B1"])
    (member, _) = _rows(lti, JuryMemberRow)
    ids = {"s": secretary.session_id, "m": member.id, "d": decision}
    before = [len(_rows(lti, model)) for model in (JurySession, JuryMemberRow, JuryDecision)]
    form = {
        "certification": "CRCA", "held_on": "2026-12-11", "name": "Intrus", "seat": "employees",
        "present": "on", "person": str(person), "route": "evaluation",
        "outcome": "absence_de_validation", "confirm": "on",
    }  # fmt: skip
    for endpoint, path in JURY_POSTS:
        for token in (None, "forged-token"):
            fields = {"launch": secretary.visitor.launch, **form}
            if token:
                fields["csrf_token"] = token
            answer = secretary.visitor.browser.post(
                f"{secretary.visitor.base}{path.format(**ids)}", data=fields
            )
            assert answer.status_code == 400, (endpoint, token, answer.status_code)
    after = [len(_rows(lti, model)) for model in (JurySession, JuryMemberRow, JuryDecision)]
    assert after == before
    (session,) = _rows(lti, JurySession)
    assert session.status == "draft" and _rows(lti, JuryDecision)[0].outcome == (
        "validation_partielle"
    )
