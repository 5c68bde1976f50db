"""The demo platform drives the service's real LTI 1.3 path: login, launch, deep linking,
AGS and NRPS, and is absent from a normal start."""

from __future__ import annotations

import re
import time
import uuid
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from lxml import html
from sqlalchemy import select

from ltiservice import db, outbox
from ltiservice.demo import cast
from ltiservice.demo.platform import NRPS_SCOPE
from ltiservice.grades import queue_score
from ltiservice.lti.services import nrps_client
from ltiservice.models import Assessment, Course, Person, Platform, Submission
from ltiservice.passback import deliverers
from tests.conftest import LiveApp
from tests.demo.conftest import enter
from tests.support.browser import Browser, form_of, launch_id_of

FIRST = cast.FIRST_LINK_ID


def _assessment(app: LiveApp) -> Assessment:
    with app.app.app_context():
        found = db.session().scalar(select(Assessment).where(Assessment.resource_link_id == FIRST))
        assert found is not None
        db.session().expunge(found)
        return found


def test_demo_is_absent_from_a_normal_start(live_app: LiveApp) -> None:
    for method, path in [
        ("GET", "/demo/"),
        ("GET", "/demo/jwks"),
        ("GET", "/demo/enter?person=camille&activity=" + FIRST),
        ("POST", "/demo/api/token"),
        ("GET", "/demo/api/memberships"),
    ]:
        assert requests.request(method, live_app.url + path, timeout=10).status_code == 404


def test_demo_cannot_be_enabled_in_production() -> None:
    from ltiservice.config import ConfigError, load_settings

    env = {"LTISERVICE_ENV": "production", "LTISERVICE_DEMO_ENABLED": "1"}
    with pytest.raises(ConfigError, match="DEMO_ENABLED"):
        load_settings(
            {
                "base_url": "https://tool.example",
                "secret_key": "x" * 40,
                "database_url": "postgresql://h/db",
            },
            environ=env,
        )


def test_home_is_labelled_and_lists_the_cast_and_the_ready_assessment(demo_app: LiveApp) -> None:
    page = requests.get(demo_app.url + "/demo/", timeout=10)
    assert page.status_code == 200
    text = html.fromstring(page.text).text_content()
    assert "DÉMONSTRATION" in text
    for person in cast.CAST:
        assert person.name in text
    assessment = _assessment(demo_app)
    assert assessment.certification_code == "CRCA" and assessment.block_code == "B2B"
    assert f"/demo/enter?person=camille&amp;activity={FIRST}" in page.text
    # The home page prepared the demo once; a second visit adds nothing.
    requests.get(demo_app.url + "/demo/", timeout=10)
    with demo_app.app.app_context():
        assert len(db.session().scalars(select(Platform)).all()) == 1
        assert len(db.session().scalars(select(Assessment)).all()) == 1


def test_learner_enters_through_the_real_launch_and_lands_on_the_case_page(
    demo_app: LiveApp,
) -> None:
    requests.get(demo_app.url + "/demo/", timeout=10)
    assessment = _assessment(demo_app)
    browser = Browser()
    page = enter(browser, demo_app.url, person="camille", activity=FIRST)
    assert page.status_code == 200, page.text[:500]
    path = urlsplit(page.url).path
    assert path == f"/a/{assessment.id}", page.url
    launch_id_of(page.url)
    with demo_app.app.app_context():
        person = db.session().scalar(select(Person).where(Person.sub == "demo-camille"))
        assert person is not None and person.name == "Camille Martin"
        course = db.session().scalar(select(Course).where(Course.context_id == cast.COURSE_ID))
        assert course is not None and course.nrps_url == demo_app.url + "/demo/api/memberships"
        stored = db.session().get(Assessment, assessment.id)
        assert stored.lineitem_url and stored.lineitem_url.startswith(demo_app.url + "/demo/api/")


def test_trainer_enters_and_lands_on_the_dashboard(demo_app: LiveApp) -> None:
    requests.get(demo_app.url + "/demo/", timeout=10)
    assessment = _assessment(demo_app)
    page = enter(Browser(), demo_app.url, person="thomas", activity=FIRST)
    assert page.status_code == 200, page.text[:500]
    assert urlsplit(page.url).path == f"/a/{assessment.id}/dashboard"


def test_a_demo_link_is_good_for_one_login_only(demo_app: LiveApp) -> None:
    requests.get(demo_app.url + "/demo/", timeout=10)
    browser = Browser()
    login = browser.get(demo_app.url + "/demo/enter", params={"person": "lucas", "activity": FIRST})
    if "cookie-check" in login.text:
        import json

        params = json.loads(
            html.fromstring(login.text).get_element_by_id("cookie-check").get("data-params")
        )
        auth_redirect = browser.get(login.url.split("?")[0], params=params, allow_redirects=False)
    else:
        auth_redirect = login
    auth_url = auth_redirect.headers["Location"]
    first = browser.get(auth_url)
    assert first.status_code == 200 and "id_token" in first.text
    again = browser.get(auth_url)
    assert again.status_code == 400
    assert "déjà servi" in again.text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("scope", "openid profile"),
        ("response_type", "code"),
        ("response_mode", "query"),
        ("prompt", "login"),
        ("client_id", "someone-else"),
        ("redirect_uri", "https://evil.example/launch"),
        ("login_hint", "demo-lucas"),
        ("nonce", ""),
    ],
)
def test_auth_endpoint_refuses_a_bad_request(demo_app: LiveApp, name: str, value: str) -> None:
    requests.get(demo_app.url + "/demo/", timeout=10)
    browser = Browser()
    login = browser.get(
        demo_app.url + "/demo/enter", params={"person": "camille", "activity": FIRST}
    )
    if "cookie-check" in login.text:
        import json

        params = json.loads(
            html.fromstring(login.text).get_element_by_id("cookie-check").get("data-params")
        )
        login = browser.get(login.url.split("?")[0], params=params, allow_redirects=False)
    auth_url = login.headers["Location"]
    query = dict(p.split("=", 1) for p in urlsplit(auth_url).query.split("&"))
    from urllib.parse import unquote

    params = {k: unquote(v) for k, v in query.items()}
    params[name] = value
    answer = browser.get(auth_url.split("?")[0], params=params)
    assert answer.status_code == 400
    assert 'name="id_token"' not in answer.text


def test_trainer_places_an_assessment_by_deep_linking(demo_app: LiveApp) -> None:
    requests.get(demo_app.url + "/demo/", timeout=10)
    browser = Browser()
    picker = enter(browser, demo_app.url, place=True, person="nadia")
    assert picker.status_code == 200, picker.text[:500]
    assert urlsplit(picker.url).path == "/placement/picker"
    action, fields = form_of(picker)
    fields.update(
        block="CRCA:B1",
        case="",
        title="Démo — bloc 1",
        score_maximum="20",
        max_file_mb="5",
        max_attempts="1",
    )
    fields.pop("allowed_extensions", None)
    data = [*fields.items(), ("allowed_extensions", ".pdf")]
    returned = browser.post(action, data=data)
    assert returned.status_code == 200, returned.text[:800]
    placed = browser.submit_auto_form(returned)  # the JWT back to the demo platform
    assert placed.status_code == 200, placed.text[:800]
    assert urlsplit(placed.url).path == "/demo/deep-link-return"
    assert "Démo — bloc 1" in placed.text
    link = re.search(r"activity=(demo-link-[0-9a-f]+)", placed.text)
    assert link, placed.text[:800]
    # The placed activity opens for a learner, who lands on the new assessment.
    page = enter(Browser(), demo_app.url, person="lucas", activity=link.group(1))
    with demo_app.app.app_context():
        placed_assessment = db.session().scalar(
            select(Assessment).where(Assessment.title == "Démo — bloc 1")
        )
        assert placed_assessment is not None
        assert placed_assessment.resource_link_id == link.group(1)
        assert (
            placed_assessment.lineitem_url
            and "/demo/api/lineitems/" in placed_assessment.lineitem_url
        )
    assert urlsplit(page.url).path == f"/a/{placed_assessment.id}"
    # The JWT cannot be replayed.
    replay = browser.submit_auto_form(returned)
    assert replay.status_code == 400


def test_learner_cannot_open_the_placement_picker(demo_app: LiveApp) -> None:
    answer = requests.get(
        demo_app.url + "/demo/place",
        params={"person": "camille"},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 404


def _queue_scores(demo_app: LiveApp, assessment_id: int) -> None:
    with demo_app.app.app_context():
        session = db.session()
        assessment = session.get(Assessment, assessment_id)
        person = session.scalar(select(Person).where(Person.sub == "demo-camille"))
        submission = Submission(
            assessment_id=assessment.id, person_id=person.id, status="submitted", text="Réponse"
        )
        session.add(submission)
        session.flush()
        # What events.submission_submitted queues when a learner hands in an attempt.
        queue_score(
            session,
            assessment,
            person,
            event_key=f"submitted:{submission.id}",
            activity_progress="Submitted",
            grading_progress="PendingManual",
        )
        session.commit()


def _deliver(demo_app: LiveApp) -> outbox.RunReport:
    app = demo_app.app
    with app.app_context():
        return outbox.run_once(app.extensions["db_sessionmaker"], deliverers(app))


def _gradebook_row(demo_app: LiveApp, sub: str) -> str:
    page = requests.get(demo_app.url + "/demo/gradebook", timeout=10)
    assert page.status_code == 200
    row = html.fromstring(page.text).xpath(f"//tr[@data-user='{sub}']")
    assert row
    return " ".join(row[0].text_content().split())


def test_scores_from_the_outbox_reach_the_demo_gradebook(demo_app: LiveApp) -> None:
    requests.get(demo_app.url + "/demo/", timeout=10)
    assessment = _assessment(demo_app)
    enter(Browser(), demo_app.url, person="camille", activity=FIRST)
    assert "Rien reçu" in _gradebook_row(demo_app, "demo-camille")

    _queue_scores(demo_app, assessment.id)
    assert _deliver(demo_app).delivered == 1
    row = _gradebook_row(demo_app, "demo-camille")
    assert "Remis" in row and "En attente d'évaluation" in row

    with demo_app.app.app_context():
        session = db.session()
        stored = session.get(Assessment, assessment.id)
        person = session.scalar(select(Person).where(Person.sub == "demo-camille"))
        queue_score(
            session,
            stored,
            person,
            event_key="decision:demo",
            activity_progress="Completed",
            grading_progress="FullyGraded",
            score_given=15,
            comment="Bloc B2B acquis.",
        )
        session.commit()
    report = _deliver(demo_app)
    assert (report.delivered, report.dead) == (1, 0)
    row = _gradebook_row(demo_app, "demo-camille")
    assert "15 / 20" in row and "Notée" in row and "Bloc B2B acquis." in row
    assert "Rien reçu" in _gradebook_row(demo_app, "demo-lucas")


def test_nrps_roster_is_the_demo_cast(demo_app: LiveApp) -> None:
    requests.get(demo_app.url + "/demo/", timeout=10)
    with demo_app.app.app_context():
        platform = db.session().scalar(select(Platform))
        roster = nrps_client(platform).members(demo_app.url + "/demo/api/memberships")
    assert sorted(m.user_id for m in roster.members) == sorted(m.sub for m in cast.CAST)
    camille = next(m for m in roster.members if m.user_id == "demo-camille")
    assert camille.name == "Camille Martin"


def _assertion(demo_app: LiveApp, **changes: object) -> str:
    keyring = demo_app.app.extensions["lti_keyring"]
    key = keyring.current()
    now = int(time.time())
    claims = {
        "iss": cast.CLIENT_ID,
        "sub": cast.CLIENT_ID,
        "aud": demo_app.url + "/demo/api/token",
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
        **changes,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": key.kid})


def _token(demo_app: LiveApp, assertion: str, scope: str = NRPS_SCOPE) -> requests.Response:
    return requests.post(
        demo_app.url + "/demo/api/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "scope": scope,
        },
        timeout=10,
    )


def test_token_endpoint_checks_the_tool_assertion(demo_app: LiveApp) -> None:
    good = _assertion(demo_app)
    answer = _token(demo_app, good)
    assert answer.status_code == 200 and answer.json()["scope"] == NRPS_SCOPE
    assert _token(demo_app, good).status_code == 401  # jti used twice
    for bad in (
        _assertion(demo_app, aud="https://elsewhere.example/token"),
        _assertion(demo_app, iss="other", sub="other"),
        _assertion(demo_app, exp=int(time.time()) - 3600),
        _assertion(demo_app, jti=None),
    ):
        refused = _token(demo_app, bad)
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"] == "invalid_client"
    # Signed by a key the tool does not publish.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    kid = demo_app.app.extensions["lti_keyring"].current().kid
    forged = jwt.encode(
        jwt.decode(good, options={"verify_signature": False}) | {"jti": "x"},
        other,
        algorithm="RS256",
        headers={"kid": kid},
    )
    assert _token(demo_app, forged).status_code == 401
    assert _token(demo_app, _assertion(demo_app), scope="urn:nothing").status_code == 400
    # Service calls need a token with the right scope.
    members = requests.get(demo_app.url + "/demo/api/memberships", timeout=10)
    assert members.status_code == 401
    nrps_only = answer.json()["access_token"]
    scores = requests.post(
        demo_app.url + "/demo/api/lineitems/x/scores",
        json={},
        headers={"Authorization": f"Bearer {nrps_only}"},
        timeout=10,
    )
    assert scores.status_code == 403
