"""One error hierarchy: French pages for people, JSON for API clients; health for probes."""

from __future__ import annotations


def test_health_reports_the_database(app):
    response = app.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "up"}


def test_unknown_page_is_french_html_for_people_and_json_for_clients(app):
    client = app.test_client()
    page = client.get("/nulle-part", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    assert "Cette adresse ne correspond à aucune page du service." in page.get_data(as_text=True)
    assert '<html lang="fr">' in page.get_data(as_text=True)

    api = client.get("/nulle-part", headers={"Accept": "application/json"})
    assert api.status_code == 404
    assert api.get_json()["error"] == "http_404"
    assert set(api.get_json()) == {"error", "message", "details"}


def test_pages_without_a_launch_say_what_to_do(app):
    page = app.test_client().get("/start")
    assert page.status_code == 401
    assert "relancez l&#39;activité" in page.get_data(as_text=True)


def test_an_unreachable_shared_store_is_a_french_503(database_url, tmp_path):
    """Every page checks the launch's roles in the shared store: Redis down is a 503 page."""
    import time

    from ltiservice import db
    from ltiservice.platforms import PlatformSpec, add_platform
    from tests.conftest import _wipe, make_app
    from tests.support.live_server import free_port

    closed = free_port()  # nothing listens there
    app = make_app(database_url, tmp_path / "instance", redis_url=f"redis://127.0.0.1:{closed}/0")
    try:
        with app.app_context():
            add_platform(
                db.session(),
                PlatformSpec(
                    organisation="of-test",
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
        client = app.test_client()
        with client.session_transaction() as session:
            session["launches"] = {
                "L": {
                    "launch_id": "L",
                    "organisation_id": 1,
                    "platform_id": 1,
                    "person_id": 1,
                    "course_id": None,
                    "roles": ["learner"],
                    "message_type": "LtiResourceLinkRequest",
                    "issued_at": time.time(),
                }
            }
        page = client.get("/start?launch=L", headers={"Accept": "text/html"})
        assert page.status_code == 503
        assert "réessayez dans un instant" in page.get_data(as_text=True)
        login = client.post(
            "/lti/login",
            data={
                "iss": "https://moodle.example.org",
                "client_id": "moodle-client",
                "login_hint": "1",
                "target_link_uri": "http://127.0.0.1:5000/lti/launch",
                "lti1p3_new_window": "1",
            },
            headers={"Accept": "application/json"},
        )
        assert login.status_code == 503
        assert login.get_json()["error"] == "store_unavailable"
    finally:
        app.extensions["db_engine"].dispose()
        _wipe(database_url)
