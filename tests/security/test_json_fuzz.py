"""Property-based fuzzing of every JSON endpoint: any body, any odd header, never a 500.

The endpoints are the ones the pages' scripts call with `fetch` (the learner's draft autosave,
the evaluator's autosave) and the signature, which also accepts JSON. Requests go over real
HTTP from the browsers of real launches, with the right CSRF token most of the time so the
body reaches the parsing code. A 4xx must be JSON `{"error", "message"}`; a 2xx JSON too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ltiservice.bodies import MAX_JSON_DEPTH
from tests.security.world import World, build_world
from tests.support.lti_harness import LtiHarness

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=60)
)
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
# Bodies shaped like the real ones, with wrong types and sizes inside.
_KEYS = st.sampled_from(
    [
        "text",
        "launch",
        "verdicts",
        "remarks",
        "jury_role",
        "trained_candidate",
        "session_dates",
        "remark",
        "csrf_token",
    ]
)
SHAPED = st.dictionaries(_KEYS, JSON_VALUES | st.text(min_size=0, max_size=3000), max_size=6)
RAW = st.binary(max_size=200).map(lambda b: ("raw", b))


def _nested(depth: int, opener: str, closed: bool) -> tuple[str, bytes]:
    """`depth` levels of lists or objects, written out (json.dumps itself would recurse)."""
    closer = "]" if opener == "[" else "}"
    text = opener * depth + ("0" if opener == "[" else '"x"') + (closer * depth if closed else "")
    return ("deep", text.encode())


# Nesting on both sides of the depth cap, up to far beyond the interpreter's recursion limit.
DEPTHS = st.one_of(
    st.integers(min_value=1, max_value=MAX_JSON_DEPTH + 2),
    st.integers(min_value=MAX_JSON_DEPTH + 3, max_value=5000),
)
DEEP = st.builds(_nested, DEPTHS, st.sampled_from(["[", '{"text":', '{"verdicts":']), st.booleans())
BODIES = st.one_of(
    JSON_VALUES.map(lambda v: ("json", v)), SHAPED.map(lambda v: ("json", v)), RAW, DEEP
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json",
        "application/json",
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=latin-1",
        "application/vnd.api+json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=zzz",
        "",
    ]
)
ACCEPTS = st.sampled_from(["application/json", "application/json, text/html;q=0.1", "*/*"])
TOKENS = st.sampled_from(["right", "right", "right", "none", "wrong", "latin1"])
LAUNCHES = st.sampled_from(["right", "right", "right", "none", "foreign", "garbage"])


def _request(
    world: World,
    who: str,
    path: str,
    body: tuple[str, Any],
    content_type: str,
    accept: str,
    token: str,
    launch: str,
) -> requests.Response:
    actor = world.actors[who]
    assert actor.browser is not None
    headers = {"Accept": accept}
    if content_type:
        headers["Content-Type"] = content_type
    headers["X-CSRF-Token"] = {
        "right": actor.csrf,
        "none": "",
        "wrong": "nope",
        "latin1": "jeton-é",
    }[token]
    if not headers["X-CSRF-Token"]:
        del headers["X-CSRF-Token"]
    params = {
        "right": {"launch": actor.launch},
        "none": {},
        "foreign": {"launch": world.actors["other_org"].launch},
        "garbage": {"launch": "../../\u0000é" * 3},
    }[launch]
    kind, value = body
    data = json.dumps(value).encode() if kind == "json" else value
    assert isinstance(data, bytes)
    return actor.browser.post(
        f"{actor.base}{path}", params=params, data=data, headers=headers, allow_redirects=False
    )


def _depth(text: bytes) -> int:
    return len(text) - len(text.lstrip(b"[")) or text.count(b"{")


def _problem(response: requests.Response, strict_json: bool) -> str | None:
    if response.status_code >= 500:
        return f"{response.status_code}: {response.text[:200]}"
    if not strict_json or response.status_code in (301, 302, 303):
        return None
    try:
        payload = response.json()
    except ValueError:
        return f"{response.status_code} not JSON: {response.text[:120]}"
    if response.status_code >= 400 and not (
        isinstance(payload, dict) and {"error", "message"} <= payload.keys()
    ):
        return f"{response.status_code} without error/message: {payload}"
    return None


@pytest.mark.peer
@pytest.mark.slow
def test_json_endpoints_never_answer_500(lti: LtiHarness) -> None:
    world = build_world(lti)
    x, s = world.assessments["X"], world.ids["submission"]
    endpoints = [
        ("owner", f"/a/{x}/draft", True),
        ("trainer", f"/a/{x}/submissions/{s}/evaluation", True),
        # The signature is a form endpoint that also reads JSON: no 500, any body.
        ("trainer", f"/a/{x}/submissions/{s}/evaluation/sign", False),
    ]
    problems: list[str] = []

    @settings(
        max_examples=120,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @example(endpoints[0], ("json", [1]), "application/json", "application/json", "right", "right")
    @example(endpoints[0], ("json", "x"), "application/json", "application/json", "right", "none")
    @example(endpoints[1], ("json", [{}]), "application/json", "application/json", "right", "right")
    # Issue 9: 1,000 nested `[` answered 500 (RecursionError) on both autosaves.
    @example(endpoints[0], _nested(1000, "[", True), "application/json", "*/*", "right", "right")
    @example(endpoints[1], _nested(1000, "[", True), "application/json", "*/*", "right", "right")
    @given(
        target=st.sampled_from(endpoints),
        body=BODIES,
        content_type=CONTENT_TYPES,
        accept=ACCEPTS,
        token=TOKENS,
        launch=LAUNCHES,
    )
    def fuzz(
        target: tuple[str, str, bool],
        body: tuple[str, Any],
        content_type: str,
        accept: str,
        token: str,
        launch: str,
    ) -> None:
        who, path, strict = target
        response = _request(world, who, path, body, content_type, accept, token, launch)
        # A client that does not prefer JSON may get the French HTML page instead.
        found = _problem(response, strict and accept.startswith("application/json"))
        kind, value = body
        if (
            not found
            and kind == "deep"
            and _depth(value) > MAX_JSON_DEPTH
            and "json" in content_type
        ):
            # Read before any view: refused for its depth whoever sends it.
            if response.status_code != 400:
                found = f"nested {_depth(value)} deep: {response.status_code}, expected 400"
        if found:
            problems.append(f"{path} {body!r:.120} {content_type!r} token={token}: {found}")
        assert found is None, problems[-1]

    fuzz()
