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
