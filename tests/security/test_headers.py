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
from tests.security.test_authorisation_matrix import PROBES
from tests.security.world import World, build_world
from tests.support.lti_harness import LtiHarness

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


@pytest.mark.peer
def test_every_page_carries_the_csp_and_frame_ancestors_of_the_registered_platforms(
    lti: LtiHarness,
) -> None:
    # A platform on another origin, registered before the app computes its header.
    with lti.live.app.app_context():
        add_platform(
            db.session(),
            PlatformSpec(
                organisation="of-moodle",
                name="Moodle",
                issuer="https://moodle.example.org",
                client_id="moodle-client",
                auth_login_url="https://moodle.example.org/mod/lti/auth.php",
                auth_token_url="https://moodle.example.org/mod/lti/token.php",
                key_set_url="https://moodle.example.org/mod/lti/certs.php",
                deployment_ids=("1",),
            ),
        )
        db.session().commit()
    world: World = build_world(lti)
    ancestors = {
        "'self'",
        "https://moodle.example.org",
        _origin(lti.peer.issuer),
        _origin(lti.peer.auth_login_url),
    }
    base = lti.tool_url

    answers: dict[str, requests.Response] = {
        "static css": requests.get(f"{base}/static/css/app.css", timeout=10),
        "jwks": requests.get(f"{base}/lti/jwks", timeout=10),
        "unknown page": requests.get(f"{base}/nowhere", timeout=10),
        "login without params": requests.get(f"{base}/lti/login", timeout=10),
    }
    for actor in ("owner", "trainer", "other_learner", "anonymous", "stolen"):
        for probe in PROBES:
            if probe.method == "GET":
                response = world.actors[actor].request("GET", probe.path(world))
                answers[f"{actor} {probe.endpoint} ({response.status_code})"] = response
    statuses = {response.status_code for response in answers.values()}
    assert {200, 401, 403, 404} <= statuses

    problems = {
        name: found
        for name, response in answers.items()
        if (found := _header_problems(response, ancestors))
    }
    assert problems == {}
