"""Security headers on every page, and templates that never need CSP's 'unsafe-inline'.

The CSP is `script-src 'self'; style-src 'self'`: an inline `<script>` body, a `style=`
attribute or an `on*=` handler in a template would be blocked by the browser (a broken page)
or, worse, tempt someone to loosen the policy. The scan below fails on any of them.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from ltiservice import db
from ltiservice.platforms import PlatformSpec, add_platform
from tests.assessments.learner_support import place
from tests.lti.test_launch_security import _attacker_token
from tests.security.test_authorisation_matrix import PROBES
from tests.security.world import OTHER_ORG_CLIENT, World, build_world
from tests.support.lti_harness import CLIENT_ID, LEARNER, LtiHarness

TEMPLATES = Path(__file__).resolve().parents[2] / "ltiservice" / "templates"

# An opening <script> tag that has no src, or any <script ...> followed by a non-blank body.
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<script[^>]*>\s*[^<\s]", re.I)
_STYLE_ATTR = re.compile(r"\sstyle\s*=", re.I)
_STYLE_BLOCK = re.compile(r"<style[\s>]", re.I)
_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I | re.S)
_JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def inline_code(text: str) -> list[str]:
    """What in a template CSP would refuse without 'unsafe-inline' (empty: nothing)."""
    found = []
    for name, pattern in (
        ("inline <script>", _INLINE_SCRIPT),
        ("style= attribute", _STYLE_ATTR),
        ("<style> block", _STYLE_BLOCK),
        ("on*= handler", _HANDLER),
        ("javascript: URL", _JS_URL),
    ):
        found += [f"{name}: {m.group(0)[:60]!r}" for m in pattern.finditer(text)]
    return found


@pytest.mark.parametrize(
    ("snippet", "bad"),
    [
        ('<script src="/static/js/a.js" defer></script>', False),
        ("<script>alert(1)</script>", True),
        ('<script type="module">import x</script>', True),
        ('<p style="color:red">x</p>', True),
        ("<style>p{}</style>", True),
        ('<button onclick="go()">x</button>', True),
        ('<a\n  href="#" onmouseover="x()">', True),
        ('<a href="javascript:void(0)">x</a>', True),
        ('<p data-style="x" class="once">onboarding</p>', False),
    ],
)
def test_the_scan_recognises_inline_code(snippet: str, bad: bool) -> None:
    assert bool(inline_code(snippet)) is bad


def test_no_template_holds_inline_script_style_or_handlers() -> None:
    templates = sorted(p for p in TEMPLATES.rglob("*") if p.is_file())
    assert len(templates) > 10
    found = {
        str(path.relative_to(TEMPLATES)): problems
        for path in templates
        if (problems := inline_code(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def _csp(response: requests.Response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _header_problems(response: requests.Response, ancestors: set[str]) -> list[str]:
    csp = _csp(response)
    problems = []
    if csp.get("script-src") != ["'self'"]:
        problems.append(f"script-src {csp.get('script-src')}")
    if csp.get("style-src") != ["'self'"]:
        problems.append(f"style-src {csp.get('style-src')}")
    if set(csp.get("frame-ancestors", [])) != ancestors:
        problems.append(f"frame-ancestors {csp.get('frame-ancestors')}")
    if csp.get("object-src") != ["'none'"]:
        problems.append(f"object-src {csp.get('object-src')}")
    header = response.headers.get("Content-Security-Policy", "")
    if "unsafe-inline" in header or "unsafe-eval" in header:
        problems.append("unsafe-* in CSP")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no nosniff")
    if response.headers.get("Referrer-Policy") != "no-referrer":
        problems.append("Referrer-Policy")
    return problems


MOODLE = "https://moodle.example.org"


def _register(lti: LtiHarness, organisation: str, origin: str, client_id: str) -> None:
    with lti.live.app.app_context():
        add_platform(
            db.session(),
            PlatformSpec(
                organisation=organisation,
                name=client_id,
                issuer=origin,
                client_id=client_id,
                auth_login_url=f"{origin}/mod/lti/auth.php",
                auth_token_url=f"{origin}/mod/lti/token.php",
                key_set_url=f"{origin}/mod/lti/certs.php",
                deployment_ids=("1",),
            ),
        )
        db.session().commit()


def _login_page(lti: LtiHarness, issuer: str, client_id: str) -> requests.Response:
    """The first page an LMS frame shows: the login initiation's cookie check."""
    params = {
        "iss": issuer,
        "client_id": client_id,
        "login_hint": "learner-1",
        "lti_deployment_id": "1",
        "target_link_uri": f"{lti.tool_url}/lti/launch",
    }
    page = requests.get(f"{lti.tool_url}/lti/login", params=params, timeout=10)
    assert page.status_code == 200 and "cookie-check" in page.text, page.text[:300]
    return page


@pytest.mark.peer
def test_every_page_carries_the_csp_and_the_frame_ancestors_of_its_own_platform(
    lti: LtiHarness,
) -> None:
    # Another platform of the launches' organisation, on another origin: a page opened by a
    # launch of the peer must not be framable by it.
    _register(lti, "of-test", MOODLE, "moodle-client")
    world: World = build_world(lti)
    peer = {_origin(lti.peer.issuer), _origin(lti.peer.auth_login_url)}
    base = lti.tool_url

    answers: dict[str, tuple[requests.Response, set[str]]] = {
        "static css": (requests.get(f"{base}/static/css/app.css", timeout=10), {"'none'"}),
        "jwks": (requests.get(f"{base}/lti/jwks", timeout=10), {"'none'"}),
        "unknown page": (requests.get(f"{base}/nowhere", timeout=10), {"'none'"}),
        "login without params": (requests.get(f"{base}/lti/login", timeout=10), {"'none'"}),
        # Before a launch, the organisation's platforms: which one frames it is not known yet.
        "login page, P1": (_login_page(lti, lti.peer.issuer, CLIENT_ID), peer | {MOODLE}),
        "login page, other organisation": (
            _login_page(lti, lti.peer.issuer, OTHER_ORG_CLIENT),
            peer,
        ),
        "refused launch": (_attacker_token(lti, "cle-inventee"), peer | {MOODLE}),
    }
    for actor in ("owner", "trainer", "other_learner", "other_org", "anonymous", "stolen"):
        # `stolen`: an unknown launch id, framed like the launches this browser holds.
        for probe in PROBES:
            if probe.method == "GET":
                # The home page belongs to no launch: nobody frames it.
                anyone = actor == "anonymous" or probe.endpoint == "web.index"
                expected = {"'none'"} if anyone else peer
                response = world.actors[actor].request("GET", probe.path(world))
                answers[f"{actor} {probe.endpoint} ({response.status_code})"] = (
                    response,
                    expected,
                )
    statuses = {response.status_code for response, _ in answers.values()}
    assert {200, 401, 403, 404} <= statuses

    problems = {
        name: found
        for name, (response, ancestors) in answers.items()
        if (found := _header_problems(response, ancestors))
    }
    assert problems == {}


@pytest.mark.peer
def test_a_platform_frames_its_pages_from_the_first_request_after_its_registration(
    lti: LtiHarness,
) -> None:
    first = _login_page(lti, lti.peer.issuer, CLIENT_ID)  # any per-process cache is warm now
    assert "https://nouvelle-plateforme.example" not in first.headers["Content-Security-Policy"]
    _register(lti, "of-nouveau", "https://nouvelle-plateforme.example", "nouveau-client")
    page = _login_page(lti, "https://nouvelle-plateforme.example", "nouveau-client")
    assert _header_problems(page, {"https://nouvelle-plateforme.example"}) == []


@pytest.mark.peer
def test_a_launched_page_may_be_framed_where_the_signed_launch_says_it_came_from(
    lti: LtiHarness,
) -> None:
    place(lti)
    peer = {_origin(lti.peer.issuer), _origin(lti.peer.auth_login_url)}
    user = lti.user("learner-1", LEARNER)
    page = lti.launch(user, return_url="https://ecole.example.org:8443/course/view.php?id=3")
    assert page.status_code == 200, page.text[:300]
    assert _header_problems(page, peer | {"https://ecole.example.org:8443"}) == []
    # What cannot be an origin never reaches the header.
    page = lti.launch(user, return_url="https://x.example;script-src *;/retour")
    assert page.status_code == 200, page.text[:300]
    assert _header_problems(page, peer) == []
