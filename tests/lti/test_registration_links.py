"""Registration only through an operator's link: refused otherwise, with nothing fetched or
stored; the link decides the organisation; optional approval before any launch."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from ltiservice import db
from ltiservice.cli import main
from ltiservice.models import LtiStoreEntry, Platform, RegistrationLink
from tests.conftest import served
from tests.peers.platform import PlatformPeer
from tests.support.browser import Browser, form_of
from tests.support.lti_harness import INSTRUCTOR, LtiHarness
from tests.support.registration import open_registration, registration_link

pytestmark = pytest.mark.peer


def counts(live_app: Any) -> tuple[int, int, int]:
    """(platforms, entries of the shared store, link uses)"""
    with live_app.app.app_context():
        session = db.session()
        return (
            int(session.scalar(select(func.count()).select_from(Platform)) or 0),
            int(session.scalar(select(func.count()).select_from(LtiStoreEntry)) or 0),
            int(session.scalar(select(func.coalesce(func.sum(RegistrationLink.uses), 0))) or 0),
        )


def config_fetches(peer: PlatformPeer) -> int:
    paths = peer.stats()["requests_by_path"]
    return sum(n for path, n in paths.items() if "openid-configuration" in path)


def register(browser: Browser, link: str, peer: PlatformPeer) -> Any:
    issued = peer.registration_token()
    page = open_registration(browser, link, issued["openid_configuration_url"], issued["token"])
    assert page.status_code == 200, page.text[:600]
    action, fields = form_of(page)
    return browser.post(action, data=fields)


def test_without_a_link_nothing_is_fetched_nor_stored(peer, live_app, browser):
    issued = peer.registration_token()
    before = counts(live_app)
    for method in ("get", "post"):
        refused = getattr(browser, method)(
            f"{live_app.url}/lti/register",
            params={"openid_configuration": issued["openid_configuration_url"]},
        )
        assert refused.status_code == 403
        text = html.unescape(refused.text)
        assert "lien fourni par l'exploitant du service" in text and "Demandez" in text
    assert config_fetches(peer) == 0
    assert counts(live_app) == before == (0, 0, 0)


@pytest.mark.parametrize("state", ["unknown", "expired", "used", "revoked"])
def test_a_link_that_cannot_serve_is_refused_before_anything_happens(
    state, peer, live_app, browser
):
    link = registration_link(live_app.app, valid_for=timedelta(hours=1))
    token = link.rsplit("/", 1)[1]
    with live_app.app.app_context(), db.transaction() as session:
        row = session.scalars(select(RegistrationLink)).one()
        if state == "expired":
            row.expires_at = row.expires_at - timedelta(hours=2)
        elif state == "used":
            row.uses = row.uses_allowed
        elif state == "revoked":
            row.revoked_at = row.created_at
    if state == "unknown":
        link = link.replace(token, token[::-1])
    before = counts(live_app)
    issued = peer.registration_token()
    refused = open_registration(browser, link, issued["openid_configuration_url"], issued["token"])
    assert refused.status_code == 403
    expected = {
        "unknown": "n'existe pas",
        "expired": "a expiré",
        "used": "a déjà servi",
        "revoked": "a été révoqué",
    }[state]
    assert expected in html.unescape(refused.text)
    assert "Demandez un nouveau lien" in html.unescape(refused.text)
    assert config_fetches(peer) == 0 and counts(live_app) == before


def test_a_single_use_link_registers_once_in_its_organisation(peer, live_app, browser):
    link = registration_link(live_app.app, "of-ouest", "OF Ouest")
    done = register(browser, link, peer)
    assert done.status_code == 200 and "Outil enregistré" in html.unescape(done.text)
    assert counts(live_app)[0] == 1 and counts(live_app)[2] == 1
    with live_app.app.app_context():
        platform = db.session().scalars(select(Platform)).one()
        assert platform.organisation.slug == "of-ouest" and platform.status == "active"
        assert platform.registration_link_id is not None
    issued = peer.registration_token()
    again = open_registration(browser, link, issued["openid_configuration_url"], issued["token"])
    assert again.status_code == 403 and "a déjà servi" in html.unescape(again.text)


def test_two_confirmations_racing_for_the_last_use_register_once(peer, live_app, browser):
    link = registration_link(live_app.app)
    before = len(peer.registrations())
    forms = []
    for _ in range(2):
        issued = peer.registration_token()
        page = open_registration(browser, link, issued["openid_configuration_url"], issued["token"])
        forms.append(form_of(page))
    first = browser.post(forms[0][0], data=forms[0][1])
    second = browser.post(forms[1][0], data=forms[1][1])
    assert first.status_code == 200
    assert second.status_code == 403 and "a déjà servi" in html.unescape(second.text)
    assert len(peer.registrations()) == before + 1 and counts(live_app)[0] == 1


def test_a_refused_registration_gives_the_use_back(peer, live_app, browser):
    link = registration_link(live_app.app)
    issued = peer.registration_token()
    page = open_registration(browser, link, issued["openid_configuration_url"], issued["token"])
    action, fields = form_of(page)
    peer.set_fault("/register", 500)
    assert browser.post(action, data=fields).status_code == 502
    assert counts(live_app)[0] == 0 and counts(live_app)[2] == 0
    assert register(browser, link, peer).status_code == 200  # the link still serves


def test_with_approval_the_platform_waits_for_the_operator(peer, database_url, tmp_path):
    browser = Browser()
    with served(database_url, tmp_path / "instance", registration_approval=True) as live:
        app = live.app
        done = register(browser, registration_link(app), peer)
        assert done.status_code == 200
        assert "attend maintenant la validation" in html.unescape(done.text)
        with app.app_context():
            platform = db.session().scalars(select(Platform)).one()
            assert platform.status == "pending"
            platform_id = platform.id
            client_id = platform.client_id
        harness = LtiHarness(peer, live)
        trainer = harness.user("trainer-wait", INSTRUCTOR)
        refused = harness.login(harness.browser(), harness.start(trainer))
        assert refused.status_code == 403
        assert "attend la validation de l'exploitant" in html.unescape(refused.text)
        with app.app_context():
            assert db.session().get(Platform, platform_id).client_id == client_id

        result = app.test_cli_runner().invoke(main, ["platforms", "approve", str(platform_id)])
        assert result.exit_code == 0, result.output
        assert "validée" in result.output
        accepted = harness.launch(trainer)
        assert accepted.status_code == 200, accepted.text[:600]
        for extra in harness.browsers:
            extra.close()
    browser.close()


def test_registrations_cli(app):
    runner = app.test_cli_runner()
    unknown = runner.invoke(main, ["registrations", "create", "--organisation", "of-x"])
    assert unknown.exit_code != 0 and "organisations add of-x" in unknown.output
    runner.invoke(main, ["organisations", "add", "of-x", "--name", "OF X"])
    bad = runner.invoke(
        main, ["registrations", "create", "--organisation", "of-x", "--expires", "demain"]
    )
    assert bad.exit_code == 2 and "12h, 7d ou 2w" in bad.output
    empty = runner.invoke(main, ["registrations", "list"])
    assert "Aucun lien" in empty.output

    made = runner.invoke(
        main,
        ["registrations", "create", "--organisation", "of-x", "--expires", "12h", "--uses", "2"],
    )
    assert made.exit_code == 0, made.output
    url = made.output.strip().splitlines()[-1]
    base = app.config["SETTINGS"].base_url.rstrip("/")
    assert url.startswith(f"{base}/lti/register/") and len(url.rsplit("/", 1)[1]) == 43
    listed = runner.invoke(main, ["registrations", "list"]).output
    assert "of-x\t0/2" in listed and "utilisable" in listed
    assert url.rsplit("/", 1)[1] not in listed  # shown once, never again

    link_id = made.output.split("Lien n° ", 1)[1].split(" ", 1)[0]
    revoked = runner.invoke(main, ["registrations", "revoke", link_id])
    assert revoked.exit_code == 0 and "révoqué" in revoked.output
    assert "a été révoqué" in runner.invoke(main, ["registrations", "list"]).output
    missing = runner.invoke(main, ["registrations", "revoke", "999999"])
    assert missing.exit_code == 1 and "Aucun lien" in missing.output
