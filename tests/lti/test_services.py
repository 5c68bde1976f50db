"""Access tokens, AGS and NRPS clients against the real platform peer over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jwt
import pytest
import requests

from ltiservice import db
from ltiservice.lti.services import (
    AgsClient,
    LineItem,
    NrpsClient,
    PlatformAuth,
    Score,
    ServiceCallError,
    ServiceConflictError,
    TokenError,
    TokenProvider,
    ags_client,
    nrps_client,
    token_provider,
)
from ltiservice.lti.services.ags import SCOPE_SCORE, service_url
from ltiservice.models import Platform
from tests.support.lti_harness import INSTRUCTOR, LEARNER, LtiHarness

pytestmark = pytest.mark.peer

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class Clock:
    """A clock the test moves forward; the platform stays real."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def platform(lti: LtiHarness) -> Iterator[Platform]:
    with lti.live.app.app_context():
        row = db.session().get(Platform, lti.platform_id)
        assert row is not None
        yield row


def lineitems_url(lti: LtiHarness, context: str = "course-1") -> str:
    return lti.peer.url(f"/ags/{context}/lineitems")


def provider_for(lti: LtiHarness, **kwargs: Any) -> TokenProvider:
    app = lti.live.app
    return TokenProvider(
        app.extensions["lti_store"],
        app.extensions["lti_keyring"],
        requests.Session(),
        5.0,
        **kwargs,
    )


def tokens_issued(lti: LtiHarness) -> int:
    return int(lti.peer.stats()["tokens_issued"])


def graded(user: str, given: float | None, at: datetime, **kw: Any) -> Score:
    return Score(
        user_id=user,
        score_given=given,
        score_maximum=20.0,
        activity_progress=kw.pop("activity", "Completed"),
        grading_progress=kw.pop("grading", "FullyGraded"),
        timestamp=at,
        **kw,
    )


# ------------------------------------------------------------------ access tokens


def test_one_token_serves_many_calls_and_every_worker(lti, platform):
    ags = ags_client(platform)
    item = ags.create_line_item(lineitems_url(lti), LineItem("Bloc 1", 20.0, resource_id="b1"))
    for index in range(8):
        ags.post_score(item.id, graded(f"learner-{index}", 12.5, T0))
    assert tokens_issued(lti) == 2  # one for lineitem, one for score
    # Another worker (its own provider and HTTP session) finds the token in the shared store.
    other = AgsClient(platform, provider_for(lti), requests.Session(), 5.0)
    other.post_score(item.id, graded("learner-99", 3, T0))
    assert tokens_issued(lti) == 2
    assert len(lti.peer.scores()) == 9


def test_client_assertion_follows_the_security_framework(lti, platform):
    provider = token_provider(lti.live.app)
    auth = PlatformAuth.of(platform)
    first, second = provider.assertion(auth), provider.assertion(auth)
    key = lti.live.app.extensions["lti_keyring"].current()
    assert jwt.get_unverified_header(first)["kid"] == key.kid
    public = jwt.PyJWK(key.public_jwk()).key
    claims = jwt.decode(first, public, algorithms=["RS256"], audience=lti.peer.auth_token_url)
    assert claims["iss"] == claims["sub"] == platform.client_id
    assert claims["exp"] - claims["iat"] == 300
    assert claims["jti"] != jwt.decode(second, options={"verify_signature": False})["jti"]
    # A separate audience, when the platform declares one, replaces the token URL.
    other = PlatformAuth(auth.issuer, auth.client_id, auth.token_url, "https://aud.example")
    assert (
        jwt.decode(provider.assertion(other), options={"verify_signature": False})["aud"]
        == "https://aud.example"
    )


def test_token_is_renewed_once_it_expires(lti, platform):
    clock = Clock()
    provider = provider_for(lti, clock=clock)
    first = provider.token(platform, [SCOPE_SCORE])
    clock.now += 3000  # the peer grants 3600 s; still inside, margin included
    assert provider.token(platform, [SCOPE_SCORE]) == first
    assert tokens_issued(lti) == 1
    clock.now += 560  # 3560 s: within the renewal margin
    provider.token(platform, [SCOPE_SCORE])
    # The peer may mint an identical token within the same second: count its issuances.
    assert tokens_issued(lti) == 2
    provider.token(platform, [SCOPE_SCORE])
    assert tokens_issued(lti) == 2


def test_a_refused_token_is_replaced_once(lti, platform):
    ags = ags_client(platform)
    item = ags.create_line_item(lineitems_url(lti), LineItem("Bloc 2", 20.0, resource_id="b2"))
    ags.post_score(item.id, graded("learner-1", 10, T0))
    before = tokens_issued(lti)
    lti.peer.set_fault("/ags/", 401, count=1)
    ags.post_score(item.id, graded("learner-1", 11, T0 + timedelta(minutes=1)))
    assert tokens_issued(lti) == before + 1
    assert [s["score"]["scoreGiven"] for s in lti.peer.scores()] == [10, 11]

    lti.peer.set_fault("/ags/", 401, count=2)
    with pytest.raises(ServiceCallError) as refused:
        ags.post_score(item.id, graded("learner-1", 12, T0 + timedelta(minutes=2)))
    assert refused.value.http_status == 401
    assert refused.value.retryable is False
    assert tokens_issued(lti) == before + 2  # one retry, not a loop
    lti.peer.clear_faults()
    assert len(lti.peer.scores()) == 2


def test_token_endpoint_failures_are_typed_and_never_echo_secrets(lti, platform):
    provider = provider_for(lti)
    lti.peer.set_fault("/token", 503)
    with pytest.raises(TokenError) as unavailable:
        provider.token(platform, [SCOPE_SCORE])
    assert unavailable.value.http_status == 503 and unavailable.value.retryable
    lti.peer.set_fault("/token", "close")
    with pytest.raises(TokenError) as dropped:
        provider.token(platform, [SCOPE_SCORE])
    assert dropped.value.http_status is None and dropped.value.retryable
    unknown = PlatformAuth(platform.issuer, "not-registered", platform.auth_token_url)
    with pytest.raises(TokenError) as refused:
        provider.token(unknown, [SCOPE_SCORE])
    # The peer knows one tool: another client_id's assertion is checked against its keys.
    assert refused.value.http_status in (400, 401) and not refused.value.retryable
    assert "eyJ" not in str(refused.value) and "eyJ" not in str(refused.value.details)


# ------------------------------------------------------------------ AGS


def test_line_items_found_or_created_listed_and_updated(lti, platform):
    ags = ags_client(platform)
    url = lineitems_url(lti)
    first = ags.find_or_create_line_item(
        url, resource_id="crca-b1", resource_link_id="link-1", label="Bloc 1", score_maximum=20
    )
    again = ags.find_or_create_line_item(
        url, resource_id="crca-b1", resource_link_id="link-1", label="Bloc 1", score_maximum=20
    )
    other = ags.find_or_create_line_item(
        url,
        resource_id="crca-b2",
        resource_link_id="link-1",
        label="Bloc 2",
        score_maximum=20,
        tag="decision",
    )
    assert first.id and first.id == again.id and other.id != first.id
    assert len(lti.peer.line_items("course-1")) == 2
    assert [i.id for i in ags.line_items(url, tag="decision")] == [other.id]
    assert {i.resource_id for i in ags.line_items(url, resource_link_id="link-1")} == {
        "crca-b1",
        "crca-b2",
    }
    renamed = ags.update_line_item(
        LineItem("Bloc 1 — décision du jury", 100, id=first.id, resource_id="crca-b1")
    )
    assert renamed.label == "Bloc 1 — décision du jury" and renamed.score_maximum == 100
    assert ags.line_item(first.id).label == "Bloc 1 — décision du jury"


def test_scores_progress_to_fully_graded_and_results_read_back(lti, platform):
    ags = ags_client(platform)
    item = ags.create_line_item(lineitems_url(lti), LineItem("Bloc 1", 20, resource_id="b1"))
    ags.post_score(
        item.id,
        graded("learner-1", None, T0, activity="Submitted", grading="PendingManual"),
    )
    ags.post_score(
        item.id,
        graded("learner-1", 14.5, T0 + timedelta(days=2), comment="Bloc acquis : 7/7 critères."),
    )
    ags.post_score(item.id, graded("learner-2", 8, T0 + timedelta(days=2)))
    sent = [s["score"] for s in lti.peer.scores()]
    assert sent[0] == {
        "userId": "learner-1",
        "activityProgress": "Submitted",
        "gradingProgress": "PendingManual",
        "scoreMaximum": 20.0,
        "timestamp": "2026-03-02T09:30:00.000+00:00",
    }
    assert sent[1]["scoreGiven"] == 14.5 and sent[1]["comment"] == "Bloc acquis : 7/7 critères."
    results = {r.user_id: r for r in ags.results(item.id)}
    assert results["learner-1"].result_score == 14.5
    assert results["learner-1"].result_maximum == 20
    assert results["learner-1"].comment == "Bloc acquis : 7/7 critères."
    assert results["learner-2"].result_score == 8
    assert [r.user_id for r in ags.results(item.id, user_id="learner-2")] == ["learner-2"]


def test_a_score_not_newer_than_the_last_is_a_typed_conflict(lti, platform):
    ags = ags_client(platform)
    item = ags.create_line_item(lineitems_url(lti), LineItem("Bloc 3", 20, resource_id="b3"))
    paris = timezone(timedelta(hours=1))
    ags.post_score(item.id, graded("learner-1", 10, datetime(2026, 3, 2, 10, 30, tzinfo=paris)))
    with pytest.raises(ServiceConflictError) as conflict:
        # The same instant written in UTC: not strictly newer.
        ags.post_score(item.id, graded("learner-1", 12, T0))
    assert conflict.value.http_status == 409
    assert conflict.value.retryable is False
    assert conflict.value.status == 502  # what a view would answer
    assert [s["score"]["scoreGiven"] for s in lti.peer.scores()] == [10]


def test_unreachable_service_is_retryable(lti, platform):
    ags = ags_client(platform)
    item = ags.create_line_item(lineitems_url(lti), LineItem("Bloc 4", 20, resource_id="b4"))
    lti.peer.set_fault("/ags/", 503)
    with pytest.raises(ServiceCallError) as failed:
        ags.post_score(item.id, graded("learner-1", 10, T0))
    assert failed.value.http_status == 503 and failed.value.retryable
    lti.peer.set_fault("/ags/", "close")
    with pytest.raises(ServiceCallError) as dropped:
        ags.post_score(item.id, graded("learner-1", 10, T0))
    assert dropped.value.http_status is None and dropped.value.retryable


def test_score_serialisation_rules():
    naive = datetime(2026, 3, 2, 9, 30)
    with pytest.raises(ValueError, match="timezone"):
        graded("u", 1, naive)
    with pytest.raises(ValueError, match="activity_progress"):
        graded("u", 1, T0, activity="Done")
    with pytest.raises(ValueError, match="score_maximum"):
        Score("u", 1, None, "Completed", "FullyGraded", T0)
    body = graded("u", None, T0, grading="Pending").to_json()
    assert "scoreGiven" not in body and "comment" not in body
    assert service_url(
        "https://lms/mod/lti/services.php/2/lineitems/7/lineitem?type_id=3", "scores"
    ) == ("https://lms/mod/lti/services.php/2/lineitems/7/lineitem/scores?type_id=3")


# ------------------------------------------------------------------ NRPS


def test_roster_is_read_across_pages(lti, platform):
    members = [
        {
            "user_id": f"user-{n:02d}",
            "name": f"Stagiaire {n:02d}",
            "email": f"stagiaire{n:02d}@of.example",
            "roles": [INSTRUCTOR if n == 0 else LEARNER],
        }
        for n in range(25)
    ]
    lti.peer.set_members("course-1", members, context={"title": "CQP CRCA 2026"})
    roster = nrps_client(platform).members(lti.peer.url("/nrps/course-1/memberships"), limit=10)
    assert roster.pages == 3
    assert [m.user_id for m in roster.members] == [f"user-{n:02d}" for n in range(25)]
    assert roster.members[0].roles == (INSTRUCTOR,)
    assert roster.members[7].name == "Stagiaire 07"
    assert roster.members[7].email == "stagiaire07@of.example"
    assert roster.members[7].status == "Active"
    assert roster.context_id == "course-1" and roster.context_title == "CQP CRCA 2026"
    assert lti.peer.stats()["requests_by_path"]["/nrps/course-1/memberships"] == 3
    assert tokens_issued(lti) == 1
    learners = nrps_client(platform).members(
        lti.peer.url("/nrps/course-1/memberships"), role="Learner"
    )
    assert len(learners.members) == 24 and learners.pages == 1


def test_roster_client_built_without_the_app(lti, platform):
    auth = PlatformAuth.of(platform)  # detached: what the outbox worker keeps
    lti.peer.set_members("course-9", [{"user_id": "u1", "roles": [LEARNER]}])
    client = NrpsClient(auth, provider_for(lti), requests.Session(), 5.0)
    roster = client.members(lti.peer.url("/nrps/course-9/memberships"))
    assert [m.user_id for m in roster.members] == ["u1"]
    assert roster.members[0].name is None
