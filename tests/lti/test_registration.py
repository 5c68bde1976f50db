"""LTI Dynamic Registration against the real platform peer, end to end and its failures."""

from __future__ import annotations

import html
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from ltiservice import db
from ltiservice.errors import ConflictError
from ltiservice.lti.registration import PlatformConfiguration, store_registration
from ltiservice.lti.registration_links import find_usable_link
from ltiservice.lti.services import LineItem, ags_client
from ltiservice.models import Deployment, Organisation, Person, Platform, RegistrationLink
from tests.peers.platform import PlatformPeer
from tests.support.browser import Browser, form_of
from tests.support.live_server import free_port
from tests.support.lti_harness import INSTRUCTOR, LtiHarness
from tests.support.registration import open_registration as open_with
from tests.support.registration import registration_link

pytestmark = pytest.mark.peer

SCOPES = {
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
}


@pytest.fixture
def link(live_app: Any) -> str:
    return registration_link(live_app.app, uses=5)


def open_registration(live_app: Any, browser: Browser, config_url: str, token: str | None):
    return open_with(browser, registration_link(live_app.app), config_url, token)


def platform_count(live_app: Any) -> int:
    with live_app.app.app_context():
        return int(db.session().scalar(select(func.count()).select_from(Platform)) or 0)


def test_registration_end_to_end_then_launch_and_services(peer, live_app, browser):
    issued = peer.registration_token()
    page = open_registration(live_app, browser, issued["openid_configuration_url"], issued["token"])
    assert page.status_code == 200, page.text[:800]
    assert "Enregistrer l'outil" in html.unescape(page.text) and "Open edX" in html.unescape(
        page.text
    )
    assert issued["token"] not in html.unescape(page.text)
    assert peer.base_url in page.headers["Content-Security-Policy"].split("frame-ancestors")[1]
    action, fields = form_of(page)
    assert set(fields) == {"pending", "csrf"}  # the organisation comes from the link
    assert "OF Assurances Sud" in html.unescape(page.text)
    before = len(peer.registrations())

    done = browser.post(action, data=fields)
    assert done.status_code == 200, done.text[:800]
    assert "Outil enregistré" in html.unescape(done.text) and "<script>" not in html.unescape(
        done.text
    )
    script = browser.get(f"{live_app.url}/static/js/registration-close.js").text
    assert '"org.imsglobal.lti.close"' in script and "window.opener || window.parent" in script

    registrations = peer.registrations()
    assert len(registrations) == before + 1
    sent = registrations[-1]
    tool_conf = sent["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert sent["application_type"] == "web"
    assert sent["response_types"] == ["id_token"]
    assert set(sent["grant_types"]) == {"implicit", "client_credentials"}
    assert sent["initiate_login_uri"] == f"{live_app.url}/lti/login"
    assert sent["redirect_uris"] == [f"{live_app.url}/lti/launch"]
    assert sent["jwks_uri"] == f"{live_app.url}/lti/jwks"
    assert sent["token_endpoint_auth_method"] == "private_key_jwt"
    assert set(sent["scope"].split()) == SCOPES
    assert sent["client_name"] == "Évaluation des blocs de compétences"
    assert tool_conf["domain"] == live_app.url.split("://")[1]
    assert tool_conf["target_link_uri"] == f"{live_app.url}/lti/launch"
    assert [m["type"] for m in tool_conf["messages"]] == [
        "LtiResourceLinkRequest",
        "LtiDeepLinkingRequest",
        "LtiSubmissionReviewRequest",
    ]

    with live_app.app.app_context():
        platform = db.session().scalar(
            select(Platform).where(Platform.client_id == sent["client_id"])
        )
        assert platform is not None
        assert platform.issuer == peer.issuer
        assert platform.source == "dynamic" and platform.product_family == "openedx"
        assert platform.auth_login_url == peer.auth_login_url
        assert platform.auth_token_url == peer.auth_token_url
        assert platform.key_set_url == peer.key_set_url
        assert [d.deployment_id for d in platform.deployments] == [tool_conf["deployment_id"]]
        assert platform.organisation.name == "OF Assurances Sud"
        assert platform.registration["client_registration"]["client_id"] == sent["client_id"]
        assert "registration_token" not in platform.registration["openid_configuration_url"]
        # The new registration's keys work for services too (the peer fetches our JWKS).
        item = ags_client(platform).create_line_item(
            peer.url("/ags/course-dyn/lineitems"), LineItem("Bloc 1", 20, resource_id="b1")
        )
        assert item.id and peer.line_items("course-dyn")[0]["label"] == "Bloc 1"

    # A trainer launches through the new client_id and deployment (unplaced link: the
    # configuration page), and is recorded under the new platform.
    harness = LtiHarness(peer, live_app)
    launched = harness.launch(harness.user("trainer-dyn", INSTRUCTOR, name="Inès Diallo"))
    assert launched.status_code == 200, launched.text[:800]
    assert "/placement/configure?launch=" in launched.url
    with live_app.app.app_context():
        person = db.session().scalar(select(Person).where(Person.sub == "trainer-dyn"))
        assert person is not None and person.platform.client_id == sent["client_id"]
    for extra in harness.browsers:
        extra.close()

    # The confirmation form is single-use.
    replay = browser.post(action, data=fields)
    assert replay.status_code == 400 and "expiré ou a déjà été utilisée" in html.unescape(
        replay.text
    )
    assert len(peer.registrations()) == before + 1


def test_issuer_not_prefixing_the_configuration_url_is_refused(peer, live_app, browser):
    issued = peer.registration_token()
    # Same server, other spelling: the issuer (127.0.0.1) no longer prefixes the URL.
    lookalike = issued["openid_configuration_url"].replace("127.0.0.1", "localhost")
    page = open_registration(live_app, browser, lookalike, issued["token"])
    assert page.status_code == 400
    assert "ne correspond pas à l'adresse de sa configuration" in html.unescape(page.text)
    assert platform_count(live_app) == 0


def test_platform_refusing_the_registration_stores_nothing(peer, live_app, browser):
    issued = peer.registration_token()
    page = open_registration(live_app, browser, issued["openid_configuration_url"], issued["token"])
    action, fields = form_of(page)
    before = len(peer.registrations())
    peer.set_fault("/register", 400)
    refused = browser.post(action, data=fields)
    assert refused.status_code == 502
    assert "refusé l'enregistrement de l'outil" in html.unescape(refused.text)
    assert "400" not in refused.text  # nothing of the platform's answer reaches the page
    assert platform_count(live_app) == 0
    assert len(peer.registrations()) == before


def test_bad_registration_token_is_reported(peer, live_app, browser):
    config_url = peer.registration_token()["openid_configuration_url"]
    page = open_registration(live_app, browser, config_url, "not-a-token")
    assert page.status_code == 200
    action, fields = form_of(page)
    refused = browser.post(action, data=fields)
    assert refused.status_code == 502
    assert "refusé le jeton d'enregistrement" in html.unescape(refused.text)
    assert "not-a-token" not in html.unescape(refused.text)
    assert platform_count(live_app) == 0


def test_forged_form_is_refused_before_calling_the_platform(peer, live_app, browser):
    issued = peer.registration_token()
    page = open_registration(live_app, browser, issued["openid_configuration_url"], issued["token"])
    action, fields = form_of(page)
    before = len(peer.registrations())
    refused = browser.post(action, data={**fields, "csrf": "forged"})
    assert refused.status_code == 403
    assert len(peer.registrations()) == before and platform_count(live_app) == 0


def test_configuration_unreachable_or_missing(peer, live_app, browser):
    missing = browser.get(registration_link(live_app.app))
    assert missing.status_code == 400 and "openid_configuration" in html.unescape(missing.text)
    dead = open_registration(
        live_app, browser, f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration", None
    )
    assert dead.status_code == 502 and "injoignable" in html.unescape(dead.text)
    peer.set_fault("/.well-known/", 500)
    failing = open_registration(live_app, browser, peer.openid_configuration_url, None)
    assert failing.status_code == 502 and "n'a pas pu être lue" in html.unescape(failing.text)
    assert "500" not in failing.text
    assert requests.get(peer.openid_configuration_url, timeout=5).status_code == 200


def _config(peer: PlatformPeer) -> PlatformConfiguration:
    raw = requests.get(peer.openid_configuration_url, timeout=5).json()
    return PlatformConfiguration.check(raw, peer.openid_configuration_url, require_https=False)


def _link(app: Any, slug: str, name: str) -> RegistrationLink:
    url = registration_link(app, slug, name)
    token = url.rsplit("/", 1)[1]
    return find_usable_link(db.session(), token)


def test_same_client_registered_again_gains_a_deployment_in_the_links_organisation(peer, app):
    config = _config(peer)
    tool_conf = "https://purl.imsglobal.org/spec/lti-tool-configuration"

    def answer(client: str, deployment: str) -> dict[str, Any]:
        return {"client_id": client, tool_conf: {"deployment_id": deployment}}

    with app.app_context():
        nord = _link(app, "of-nord", "OF Nord")
        with db.transaction() as session:
            store_registration(session, config, answer("moodle-7", "1"), session.merge(nord), False)
        with db.transaction() as session:
            store_registration(session, config, answer("moodle-7", "2"), session.merge(nord), False)
        with pytest.raises(ConflictError), db.transaction() as session:
            store_registration(session, config, answer("moodle-7", "2"), session.merge(nord), False)
        # Another organisation's link cannot take over (or add to) OF Nord's registration...
        sud = _link(app, "of-sud", "OF Sud")
        with pytest.raises(ConflictError) as taken, db.transaction() as session:
            store_registration(session, config, answer("moodle-7", "3"), session.merge(sud), False)
        assert taken.value.code == "registration_other_organisation"
        # ...and the same issuer with a new client_id lands in the link's organisation only.
        with db.transaction() as session:
            store_registration(session, config, answer("moodle-8", "1"), session.merge(sud), True)
        session = db.session()
        platforms = {p.client_id: p for p in session.scalars(select(Platform))}
        assert sorted(d.deployment_id for d in platforms["moodle-7"].deployments) == ["1", "2"]
        assert platforms["moodle-7"].organisation.slug == "of-nord"
        assert platforms["moodle-8"].organisation.slug == "of-sud"
        assert platforms["moodle-8"].status == "pending"
        assert platforms["moodle-7"].status == "active"
        assert session.scalar(select(func.count()).select_from(Deployment)) == 3
        assert sorted(o.slug for o in session.scalars(select(Organisation))) == [
            "of-nord",
            "of-sud",
        ]


def test_configuration_rules(peer):
    raw = requests.get(peer.openid_configuration_url, timeout=5).json()
    url = peer.openid_configuration_url
    from ltiservice.lti.registration import RegistrationError

    for broken, code in (
        ({**raw, "issuer": peer.issuer + "x"}, "issuer_mismatch"),
        (
            {**raw, "token_endpoint_auth_methods_supported": ["client_secret_basic"]},
            "bad_platform_configuration",
        ),
        ({k: v for k, v in raw.items() if k != "jwks_uri"}, "bad_platform_configuration"),
        (
            {
                k: v
                for k, v in raw.items()
                if k != "https://purl.imsglobal.org/spec/lti-platform-configuration"
            },
            "bad_platform_configuration",
        ),
    ):
        with pytest.raises(RegistrationError) as refused:
            PlatformConfiguration.check(broken, url, require_https=False)
        assert refused.value.code == code
    with pytest.raises(RegistrationError):  # production demands https everywhere
        PlatformConfiguration.check(raw, url, require_https=True)
