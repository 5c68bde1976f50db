"""Hostile bodies on every route of the app: never a 500, always the usual JSON or French page.

Nested, oversized or unreadable JSON, broken multipart, floods of form fields, bytes that are
not UTF-8: each route of `app.url_map` receives each of them over real HTTP, from a visitor
without a launch and from the learner and trainer of a real world (launch id in the query,
their own CSRF token in the header, so the body reaches the view where it can). The visitor
without a launch asks for HTML and must get the French error page; the others ask for JSON
and must get `{"error", "message"}`.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from ltiservice.bodies import MAX_JSON_DEPTH
from tests.security.test_authorisation_matrix import PROBES
from tests.security.world import World, build_world
from tests.support.lti_harness import LtiHarness

JSON = "application/json"
MULTIPART = "multipart/form-data; boundary=zzz"
FORM = "application/x-www-form-urlencoded"


def _parts(count: int) -> bytes:
    part = b'--zzz\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nx\r\n'
    return b"".join(part % i for i in range(count)) + b"--zzz--\r\n"


#: name -> (content type, body, the status it must get whenever a view could read it)
BODIES: dict[str, tuple[str, bytes, int | None]] = {
    "1000 nested [": (JSON, b"[" * 1000 + b"]" * 1000, 400),
    "5000 [ unclosed": (JSON, b"[" * 5000, 400),
    "600 nested objects": (JSON, b'{"text":' * 600 + b'"x"' + b"}" * 600, 400),
    "just over the depth cap": (
        JSON,
        b'{"text":' + b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"}",
        400,
    ),
    "JSON over max_body_kb": (JSON, b'{"text": "' + b"a" * (1100 * 1024) + b'"}', 413),
    "not JSON": (JSON, b"{'text': pas du json", 400),
    "latin-1 JSON": (JSON + "; charset=latin-1", b'{"text": "\xe9t\xe9"}', None),
    "multipart without boundary": ("multipart/form-data", b"--zzz\r\nrien", None),
    "truncated multipart": (MULTIPART, b'--zzz\r\nContent-Disposition: form-data; name="a"', None),
    "2000 multipart parts": (MULTIPART, _parts(2000), 413),
    "form over max_body_kb": (FORM, b"text=" + b"x" * (1100 * 1024), 413),
    "multipart field over 500 KB": (
        MULTIPART,
        b'--zzz\r\nContent-Disposition: form-data; name="text"\r\n\r\n'
        + b"x" * (600 * 1024)
        + b"\r\n--zzz--\r\n",
        413,
    ),
    "20000 form fields": (FORM, b"&".join(b"f%d=x" % i for i in range(20000)), None),
    "bytes that are not UTF-8": (FORM, b"text=\xe9\xff\xfe&csrf_token=%ff%fe&launch=%e9", None),
    "broken percent-encoding": (FORM, b"text=%zz%&&=&%", None),
}


def _routes(world: World) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) for every route: the matrix's paths, ids elsewhere."""
    paths = {(p.endpoint, p.method): p.path(world) for p in PROBES}
    found = []
    for rule in world.app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            path = paths.get((rule.endpoint, method))
            if path is None:
                path = re.sub(r"<(?:\w+:)?(\w+)>", "1", rule.rule)
                path = "/static/css/app.css" if rule.endpoint == "static" else path
            found.append((rule.endpoint, method, path))
    return found


def _problem(response: requests.Response, wants_json: bool, endpoint: str = "") -> str | None:
    status = response.status_code
    if status >= 500:
        return f"{status}: {response.text[:160]}"
    if status < 400:
        return None
    if endpoint.startswith("case.") and "json" in response.headers.get("Content-Type", ""):
        # The CASE API answers its own errors with the spec's imsx_StatusInfo; a body refused
        # before the view gets the service's usual shapes, checked below.
        payload = response.json()
        if isinstance(payload, dict) and payload.get("imsx_codeMajor") == "failure":
            return None
    if wants_json:
        try:
            payload = response.json()
        except ValueError:
            return f"{status} not JSON: {response.text[:120]}"
        if not (isinstance(payload, dict) and {"error", "message"} <= payload.keys()):
            return f"{status} without error/message: {payload}"
        return None
    page = response.text
    if '<html lang="fr"' not in page or f"Code {status}" not in page:
        return f"{status} is not the French error page: {page[:120]}"
    return None


def _send(
    world: World, who: str, method: str, path: str, content_type: str, body: bytes, accept: str
) -> requests.Response:
    actor = world.actors[who]
    headers = {"Content-Type": content_type, "Accept": accept}
    params = {}
    if actor.launch:
        params["launch"] = actor.launch
        headers["X-CSRF-Token"] = actor.csrf
    send = actor.browser.request if actor.browser is not None else requests.request
    return send(
        method,
        f"{actor.base}{path}",
        params=params,
        data=body,
        headers=headers,
        allow_redirects=False,
        timeout=60,
    )


@pytest.mark.peer
@pytest.mark.slow
def test_hostile_bodies_on_every_route_never_answer_500(lti: LtiHarness) -> None:
    world = build_world(lti)
    routes = _routes(world)
    assert len(routes) > 25
    problems: list[str] = []
    statuses: dict[tuple[str, str, str], int] = {}
    for endpoint, method, path in routes:
        for who in ("anonymous", "owner", "trainer"):
            for name, (content_type, body, _) in BODIES.items():
                # People get the French page, scripts JSON: both shapes on every route.
                accept = "text/html" if who == "anonymous" else JSON
                response = _send(world, who, method, path, content_type, body, accept)
                statuses[(endpoint, who, name)] = response.status_code
                found = _problem(response, accept == JSON, endpoint)
                if found:
                    problems.append(f"{method} {endpoint} as {who}, {name}: {found}")
    assert problems == []

    # Where the view would read the body, the body itself is refused with its status.
    for endpoint, who in (
        ("assessments.save_draft", "owner"),
        ("evaluations.save_evaluation", "trainer"),
        ("evaluations.sign_evaluation", "trainer"),
        ("lti.launch", "anonymous"),
    ):
        for name, (_, _, expected) in BODIES.items():
            if expected is not None:
                got = statuses[(endpoint, who, name)]
                assert got == expected, (endpoint, who, name, got)

    # The message says what is wrong, in JSON and on the French page.
    x, s = world.assessments["X"], world.ids["submission"]
    deep = BODIES["1000 nested ["][1]
    for who, path in (
        ("owner", f"/a/{x}/draft"),
        ("trainer", f"/a/{x}/submissions/{s}/evaluation"),
    ):
        payload: dict[str, Any] = _send(world, who, "POST", path, JSON, deep, JSON).json()
        assert payload["error"] == "bad_json"
        assert f"plus de {MAX_JSON_DEPTH} niveaux" in payload["message"]
        page = _send(world, who, "POST", path, JSON, deep, "text/html")
        assert page.status_code == 400 and "imbriqué sur plus de" in page.text
