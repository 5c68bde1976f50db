"""The organisation console over HTTP: each task as an administrator, and who is refused.

The world has an administrator, a trainer and a learner of `of-test`, and an administrator
of `of-autre`; each console action is checked on the database, not only on the page.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from lxml import html
from sqlalchemy import func, select

from ltiservice import db, outbox
from ltiservice.models import (
    Assessment,
    LrsDestination,
    Organisation,
    Person,
    Platform,
    RegistrationLink,
)
from tests.security.world import World
from tests.support.lti_harness import LtiHarness
from tests.web.support import admin_world, fake_lrs

pytestmark = pytest.mark.peer

PAGES = ("/admin/", "/admin/registrations", "/admin/platforms", "/admin/lrs", "/admin/exports")
CHANGES = (
    ("/admin/registrations", {"expires": "7d", "uses": "1"}),
    ("/admin/registrations/1/revoke", {}),
    ("/admin/platforms/1/approve", {}),
    ("/admin/lrs", {"name": "x", "endpoint": "https://lrs.example/xAPI", "username": "u"}),
    ("/admin/lrs/1/test", {}),
    ("/admin/lrs/1/state", {"active": "0"}),
)


@pytest.fixture
def world(lti: LtiHarness) -> World:
    return admin_world(lti)


def _text(page) -> str:  # type: ignore[no-untyped-def]
    return " ".join(html.fromstring(page.text).text_content().split())


def _org_id(world: World, slug: str) -> int:
    with world.app.app_context():
        return int(db.session().scalar(select(Organisation.id).where(Organisation.slug == slug)))


def _count(world: World, model) -> int:  # type: ignore[no-untyped-def]
    with world.app.app_context():
        return int(db.session().scalar(select(func.count()).select_from(model)) or 0)


def test_every_page_opens_for_the_administrator_and_links_every_task(world: World) -> None:
    admin = world.actors["admin"]
    for path in PAGES:
        page = admin.request("GET", path)
        assert page.status_code == 200, path
    home = html.fromstring(admin.request("GET", "/admin/").text)
    targets = {a.get("href").split("?")[0] for a in home.xpath("//main//a")}
    assert {
        "/admin/registrations",
        "/admin/platforms",
        "/admin/lrs",
        "/admin/deliveries",
        "/admin/exports",
        "/jury/",
    } <= targets


def test_others_are_refused_and_change_nothing(world: World) -> None:
    before = [_count(world, m) for m in (RegistrationLink, LrsDestination)]
    # Another organisation's administrator is refused on this one's rows in the tests below.
    expected = {"trainer": 403, "learner": 403, "anonymous": 401}
    for name, status in expected.items():
        actor = world.actors[name]
        for path in PAGES:
            page = actor.request("GET", path)
            assert page.status_code == status, (name, path)
            assert "réservée aux administrateurs" in page.text or status == 401
        for path, data in CHANGES:
            answer = actor.request("POST", path, data=data)
            assert answer.status_code == status, (name, path, answer.status_code)
    assert [_count(world, m) for m in (RegistrationLink, LrsDestination)] == before


def test_a_registration_link_is_shown_once_listed_and_revoked(world: World) -> None:
    admin, other = world.actors["admin"], world.actors["other_admin"]
    created = admin.request(
        "POST",
        "/admin/registrations",
        data={"note": "Moodle de Lyon", "expires": "2w", "uses": "2"},
    )
    assert created.status_code == 200
    [url] = html.fromstring(created.text).xpath("//input[@id='url-lien']/@value")
    assert "/lti/register/" in url
    token = url.rsplit("/", 1)[1]
    listing = admin.request("GET", "/admin/registrations")
    assert token not in listing.text  # shown once
    assert "Moodle de Lyon" in _text(listing) and "0 sur 2" in _text(listing)
    # Another organisation's administrator neither sees nor revokes it.
    assert "Moodle de Lyon" not in other.request("GET", "/admin/registrations").text
    with world.app.app_context():
        link_id = db.session().scalar(select(RegistrationLink.id))
    assert other.request("POST", f"/admin/registrations/{link_id}/revoke").status_code == 404
    with world.app.app_context():
        assert db.session().get(RegistrationLink, link_id).revoked_at is None

    revoked = admin.request("POST", f"/admin/registrations/{link_id}/revoke")
    assert revoked.status_code == 303
    after = _text(admin.request("GET", "/admin/registrations"))
    assert "lien qui a été révoqué" in after
    with world.app.app_context():
        assert db.session().get(RegistrationLink, link_id).revoked_at is not None


def test_a_pending_platform_is_approved_and_shows_its_link(world: World) -> None:
    admin, other = world.actors["admin"], world.actors["other_admin"]
    with world.app.app_context():
        session = db.session()
        link = RegistrationLink(
            organisation_id=_org_id(world, "of-test"),
            token_hash="0" * 64,
            uses_allowed=1,
            uses=1,
            expires_at=outbox.utcnow(),
        )
        session.add(link)
        session.flush()
        pending = Platform(
            organisation_id=_org_id(world, "of-test"),
            name="Moodle en attente",
            issuer="https://moodle.example",
            client_id="abc",
            auth_login_url="https://moodle.example/auth",
            auth_token_url="https://moodle.example/token",
            key_set_url="https://moodle.example/jwks",
            source="dynamic",
            status="pending",
            registration_link_id=link.id,
        )
        session.add(pending)
        session.commit()
        pending_id = pending.id
    page = _text(admin.request("GET", "/admin/platforms"))
    assert "Moodle en attente" in page and "en attente de validation" in page
    assert "Open edX d'un autre organisme" not in page
    assert "Moodle en attente" in _text(admin.request("GET", "/admin/registrations"))
    assert other.request("POST", f"/admin/platforms/{pending_id}/approve").status_code == 404
    done = admin.request("POST", f"/admin/platforms/{pending_id}/approve")
    assert done.status_code == 303
    with world.app.app_context():
        assert db.session().get(Platform, pending_id).status == "active"


def test_an_lrs_is_added_tested_paused_and_its_password_never_shown(world: World) -> None:
    admin, other = world.actors["admin"], world.actors["other_admin"]
    with fake_lrs() as endpoint:
        added = admin.request(
            "POST",
            "/admin/lrs",
            data={
                "name": "LRS de l'OF",
                "kind": "organisation",
                "endpoint": endpoint,
                "username": "lrs-user",
                "password": "s3cret-lrs-password",
            },
        )
        assert added.status_code == 303
        with world.app.app_context():
            destination = db.session().scalar(select(LrsDestination))
            assert destination.secret != "s3cret-lrs-password" and destination.active
            destination_id = destination.id
        page = admin.request("GET", "/admin/lrs")
        assert "s3cret-lrs-password" not in page.text and "LRS de l'OF" in _text(page)
        assert "LRS de l'OF" not in _text(other.request("GET", "/admin/lrs"))

        tested = admin.request("POST", f"/admin/lrs/{destination_id}/test")
        assert tested.status_code == 200
        assert "Connexion réussie" in _text(tested)
        assert "s3cret-lrs-password" not in tested.text
    assert (
        other.request(
            "POST", f"/admin/lrs/{destination_id}/state", data={"active": "0"}
        ).status_code
        == 404
    )
    paused = admin.request("POST", f"/admin/lrs/{destination_id}/state", data={"active": "0"})
    assert paused.status_code == 303
    with world.app.app_context():
        assert db.session().get(LrsDestination, destination_id).active is False
    assert "en pause" in _text(admin.request("GET", "/admin/lrs"))
    admin.request("POST", f"/admin/lrs/{destination_id}/state", data={"active": "1"})
    with world.app.app_context():
        assert db.session().get(LrsDestination, destination_id).active is True


def test_deliveries_name_the_learner_assessment_and_date_without_raw_codes(world: World) -> None:
    assessment_id = world.assessments["X"]
    with world.app.app_context():
        session = db.session()
        assessment = session.get(Assessment, assessment_id)
        learner = session.scalar(select(Person).where(Person.sub == "learner-1"))
        destination = LrsDestination(
            organisation_id=assessment.organisation_id,
            name="LRS de la branche",
            endpoint="https://lrs.example/xAPI",
            username="u",
            secret="x",
            kind="branch",
        )
        session.add(destination)
        session.flush()
        message = outbox.enqueue(
            session,
            organisation_id=assessment.organisation_id,
            kind="xapi_statement",
            destination=f"lrs:{destination.id}",
            dedupe_key="xapi:console:1",
            payload={"assessment_id": assessment.id},
            person_id=learner.id,
        )
        message.status = "dead"
        message.last_error = 'le LRS a refusé la déclaration (HTTP 400) : {"error": "bad actor"}'
        session.commit()
    page = world.actors["admin"].request("GET", "/admin/deliveries")
    text = _text(page)
    row = " ".join(html.fromstring(page.text).xpath("string(//tr[@data-message])").split())
    assert "Personne learner-1" in row
    assert "bloc" in row and "le LRS « LRS de la branche »" in row
    assert "le LRS a refusé la déclaration (HTTP 400)" in row
    assert "lrs:" not in text and "bad actor" not in page.text
    assert "Console de l'organisme" in text  # the way back to the other tasks


def test_exports_download_as_french_csv_and_json(world: World) -> None:
    admin = world.actors["admin"]
    forms = html.fromstring(admin.request("GET", "/admin/exports").text)
    assert forms.xpath("//form[@data-kind='decisions']") and forms.xpath(
        "//form[@data-kind='ledger']"
    )
    got = admin.request(
        "GET", "/admin/exports/ledger.csv", params={"certification": "CRCA", "from": "2026-01-01"}
    )
    assert got.status_code == 200
    assert "attachment" in got.headers["Content-Disposition"]
    text = got.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0][:2] == ["Organisme", "Certification"] and "Acquis le" in rows[0]
    assert len(rows) == 1  # the header, no acquired block yet
    as_json = admin.request(
        "GET", "/admin/exports/decisions.json", params={"certification": "CRCA"}
    )
    assert as_json.status_code == 200 and json.loads(as_json.content) == []
    bad = admin.request("GET", "/admin/exports/ledger.csv", params={"certification": "NOPE"})
    assert bad.status_code == 400 and "Certification inconnue" in _text(bad)
    refused = world.actors["trainer"].request(
        "GET", "/admin/exports/ledger.csv", params={"certification": "CRCA"}
    )
    assert refused.status_code == 403


def test_every_console_change_needs_this_launch_s_token(world: World) -> None:
    admin = world.actors["admin"]
    with world.app.app_context():
        session = db.session()
        organisation_id = _org_id(world, "of-test")
        session.add(
            LrsDestination(
                organisation_id=organisation_id,
                name="LRS",
                endpoint="https://lrs.example/xAPI",
                username="u",
                secret="x",
            )
        )
        session.scalar(
            select(Platform).where(Platform.id == world.platforms["P1"])
        ).status = "pending"
        session.commit()
        destination_id = session.scalar(select(LrsDestination.id))
    with world.app.app_context():
        link_id = db.session().scalar(select(RegistrationLink.id))
    changes = (
        ("/admin/registrations", {"expires": "7d", "uses": "1"}),
        (f"/admin/registrations/{link_id or 1}/revoke", {}),
        (f"/admin/platforms/{world.platforms['P1']}/approve", {}),
        (
            "/admin/lrs",
            {"name": "y", "endpoint": "https://l.example/xAPI", "username": "u", "password": "p"},
        ),
        (f"/admin/lrs/{destination_id}/test", {}),
        (f"/admin/lrs/{destination_id}/state", {"active": "0"}),
    )
    for token in ("", "forged-token", "é"):
        for path, data in changes:
            answer = admin.request("POST", path, data={**data, "csrf_token": token})
            assert answer.status_code == 400, (path, token)
    with world.app.app_context():
        session = db.session()
        assert session.scalar(select(func.count()).select_from(RegistrationLink)) == 0
        assert [d.active for d in session.scalars(select(LrsDestination))] == [True]
        assert session.get(Platform, world.platforms["P1"]).status == "pending"


def test_a_refused_lrs_keeps_what_was_typed_but_never_the_password(world: World) -> None:
    admin = world.actors["admin"]
    refused = admin.request(
        "POST",
        "/admin/lrs",
        data={
            "name": "LRS mal saisi",
            "kind": "organisation",
            "endpoint": "lrs.example/xAPI",
            "username": "lrs-user",
            "password": "s3cret-lrs-password",
        },
    )
    assert refused.status_code == 400
    tree = html.fromstring(refused.text)
    assert "Adresse du LRS invalide" in " ".join(
        tree.xpath("string(//*[@id='erreur-ajout'])").split()
    )
    assert tree.xpath("//input[@id='name']/@value") == ["LRS mal saisi"]
    assert "s3cret-lrs-password" not in refused.text
    assert _count(world, LrsDestination) == 0
