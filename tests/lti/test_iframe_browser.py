"""A learner launch inside an LMS iframe, in headless Chromium, with and without third-party
cookies. The LMS page is on `localhost`, the tool and the Open edX peer on `127.0.0.1`: two
sites, so every tool cookie in the frame is a third-party cookie.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from ltiservice import db
from ltiservice.platforms import PlatformSpec, add_platform
from tests.assessments.learner_support import place
from tests.support.chromium import Chromium, FramingSite, chromium, chromium_driver, framing_site
from tests.support.lti_harness import LEARNER, LtiHarness

__all__ = ["chromium", "chromium_driver", "framing_site"]  # fixtures used here

pytestmark = [pytest.mark.browser, pytest.mark.peer]

CASE_TITLE = "Étude de cas B2B"  # the placed assessment's title (learner_support.place)
NEW_WINDOW = "Ouvrir l'activité dans une nouvelle fenêtre"


def register_lms_page(lti: LtiHarness, site: FramingSite) -> None:
    """The course page's origin is a registered platform's: `frame-ancestors` allows it.

    In production the page framing the tool is on the platform's own host; here it is the
    framing site, so it is registered like any platform (the CSP lists registered origins).
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
    """URL of the LMS page whose iframe starts a learner launch (the peer's login POST)."""
    started = lti.start(lti.user(sub, LEARNER, name="Camille Martin"))
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
