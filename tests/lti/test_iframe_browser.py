"""A learner launch inside an LMS iframe, in headless Chromium, with and without third-party
cookies. The LMS page is on `localhost`, the tool and the Open edX peer on `127.0.0.1`: two
sites, so every tool cookie in the frame is a third-party cookie.
"""

from __future__ import annotations

import json
from html import escape
from urllib.parse import quote, urlencode

import pytest

from ltiservice import db
from ltiservice.models import Platform
from ltiservice.platforms import PlatformSpec, add_platform
from tests.assessments.learner_support import place
from tests.support.chromium import Chromium, FramingSite
from tests.support.lti_harness import LEARNER, LtiHarness

pytestmark = [pytest.mark.browser, pytest.mark.peer]

CASE_TITLE = "Étude de cas B2B"  # the placed assessment's title (learner_support.place)
NEW_WINDOW = "Ouvrir l'activité dans une nouvelle fenêtre"


def register_lms_page(lti: LtiHarness, site: FramingSite) -> None:
    """The course page's origin is a platform of the launches' organisation.

    In production the page framing the tool is on the platform's own host; here it is the
    framing site. Before a launch (the login's cookie check) `frame-ancestors` names the
    organisation's platforms, so the framing site is registered in it like any platform.
    """
    with lti.live.app.app_context():
        add_platform(
            db.session(),
            PlatformSpec(
                organisation="of-test",
                name="Page de cours (test)",
                issuer=site.origin,
                client_id="page-de-cours",
                auth_login_url=f"{site.origin}/authorize",
                auth_token_url=f"{site.origin}/token",
                key_set_url=f"{site.origin}/jwks",
                deployment_ids=("page",),
            ),
        )
        db.session().commit()


def embed_launch(lti: LtiHarness, site: FramingSite, sub: str) -> str:
    """URL of the LMS page whose iframe starts a learner launch (the peer's login POST).

    After the launch, `frame-ancestors` names the launch's own platform and the page the
    signed launch says it came from (`launch_presentation.return_url`): the framing site.
    """
    started = lti.start(
        lti.user(sub, LEARNER, name="Camille Martin"), return_url=f"{site.origin}/course"
    )
    return f"{site.url}/embed?src={quote(started['launch_page_url'], safe='')}"


def test_learner_page_renders_inside_the_iframe(lti, chromium: Chromium, framing_site):
    place(lti)
    register_lms_page(lti, framing_site)
    context = chromium.context(third_party_cookies=True)
    page = context.pages[0]  # a persistent profile opens with one blank tab
    page.goto(embed_launch(lti, framing_site, "learner-iframe"))
    frame = page.frame(name="activity")
    assert frame is not None
    frame.wait_for_selector("h1", state="attached")
    frame.wait_for_url(f"{lti.tool_url}/**launch=**")
    assert frame.inner_text("h1") == CASE_TITLE
    assert page.url.startswith(framing_site.url), "the launch stayed inside the frame"
    assert len(context.pages) == 1, "no popup when cookies work"
    tool_cookies = [c for c in context.cookies(lti.tool_url) if c["name"] == "ltiservice_session"]
    assert tool_cookies and tool_cookies[0]["sameSite"] == "None" and tool_cookies[0]["secure"]


def test_blocked_third_party_cookies_offer_a_new_window_where_the_launch_works(
    lti, chromium: Chromium, framing_site
):
    place(lti)
    register_lms_page(lti, framing_site)
    context = chromium.context(third_party_cookies=False)
    page = context.pages[0]  # a persistent profile opens with one blank tab
    page.goto(embed_launch(lti, framing_site, "learner-popup"))
    frame = page.frame(name="activity")
    assert frame is not None
    link = frame.get_by_role("link", name=NEW_WINDOW)
    link.wait_for(state="visible")
    assert frame.get_by_role("heading", name=NEW_WINDOW).is_visible()
    assert frame.url.startswith(f"{lti.tool_url}/lti/login")

    with context.expect_page() as opened:
        link.click()
    popup = opened.value
    popup.wait_for_url(f"{lti.tool_url}/**launch=**")
    assert popup.inner_text("h1") == CASE_TITLE
    # The frame itself never got a session: it still shows the offer.
    assert frame.get_by_role("link", name=NEW_WINDOW).is_visible()


# -- platform storage --------------------------------------------------------------------
# Open edX's consumer has no platform storage, so the framing site plays that part of the
# platform, following the 1EdTech "Client Side postMessages" spec: a `post_message_forwarding`
# frame answering lti.put_data / lti.get_data, a login initiation carrying
# `lti_storage_target`, and an auth endpoint that echoes it in the launch form post (the
# id_token itself is still the real peer's).

STORAGE_FRAME = """<!doctype html><meta charset='utf-8'><title>stockage</title><script>
window.received = [];
var store = {};
window.addEventListener('message', function (event) {
  var m = event.data || {};
  window.received.push(m.subject + ' ' + (m.key || '') + ' ' + event.origin);
  var answer = {subject: m.subject + '.response', message_id: m.message_id, key: m.key};
  var slot = event.origin + ' ' + m.key;
  if (m.subject === 'lti.put_data') { store[slot] = m.value; answer.value = m.value; }
  else if (m.subject === 'lti.get_data') { answer.value = store[slot]; }
  else { answer.error = {code: 'unsupported_subject', message: 'unsupported'}; }
  event.source.postMessage(answer, event.origin);
});
</script>"""


def _autopost(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(
        f"<input type='hidden' name='{escape(k)}' value='{escape(v)}'>" for k, v in fields.items()
    )
    return (
        "<!doctype html><meta charset='utf-8'><title>LTI</title>"
        f"<form id='f' method='post' action='{escape(action)}'>{inputs}</form>"
        "<script>document.getElementById('f').submit()</script>"
    )


def serve_platform_storage(lti: LtiHarness, site: FramingSite) -> None:
    """The framing site becomes the platform's front: course page, storage frame, auth."""

    def course(query: dict[str, str]) -> str:
        return (
            "<!doctype html><meta charset='utf-8'><title>Cours</title>"
            "<iframe name='post_message_forwarding' src='/storage' hidden></iframe>"
            f"<iframe name='activity' src='/initiate?{escape(urlencode(query))}' "
            "width='900' height='700'></iframe>"
        )

    def initiate(query: dict[str, str]) -> str:
        started = json.loads(query["started"])
        fields = {**started["login_params"], "lti_storage_target": "post_message_forwarding"}
        return _autopost(started["login_url"], fields)

    def authorize(query: dict[str, str]) -> str:
        answer = lti.peer.authorize({k: v for k, v in query.items() if k != "lti_storage_target"})
        fields = {"id_token": answer["id_token"], "state": answer["state"]}
        fields["lti_storage_target"] = query["lti_storage_target"]
        return _autopost(answer["action"], fields)

    site.pages.update(
        {
            "/course": course,
            "/initiate": initiate,
            "/storage": lambda _query: STORAGE_FRAME,
            "/authorize": authorize,
        }
    )
    with lti.live.app.app_context():
        platform = db.session().get(Platform, lti.platform_id)
        platform.auth_login_url = f"{site.origin}/authorize"
        db.session().commit()


def test_platform_storage_launch_works_without_third_party_cookies(
    lti, chromium: Chromium, framing_site
):
    place(lti)
    serve_platform_storage(lti, framing_site)
    started = lti.start(lti.user("learner-storage", LEARNER, name="Camille Martin"))
    context = chromium.context(third_party_cookies=False)
    page = context.pages[0]
    page.goto(f"{framing_site.url}/course?{urlencode({'started': json.dumps(started)})}")
    frame = page.frame(name="activity")
    assert frame is not None
    frame.wait_for_url(f"{lti.tool_url}/**launch=**")
    assert frame.inner_text("h1") == CASE_TITLE
    assert len(context.pages) == 1, "no new window: platform storage carried the state"
    storage = page.frame(name="post_message_forwarding")
    received = storage.evaluate("window.received")
    tool_origin = lti.tool_url
    subjects = [line.split(" ")[0] for line in received]
    assert subjects == ["lti.put_data", "lti.put_data", "lti.get_data"], received
    assert all(line.endswith(tool_origin) for line in received)
    # The state cookie never stuck in the frame: third-party cookies really were blocked.
    assert not [c for c in context.cookies(lti.tool_url) if c["name"].startswith("lti1p3-")]
