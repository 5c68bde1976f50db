"""Registration links for tests: what `ltiservice registrations create` makes, in-process."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask

from ltiservice import db
from ltiservice.lti.registration_links import create_link, registration_url
from ltiservice.platforms import get_or_create_organisation


def registration_link(
    app: Flask,
    organisation: str = "of-sud",
    name: str = "OF Assurances Sud",
    *,
    uses: int = 1,
    valid_for: timedelta = timedelta(days=7),
) -> str:
    """The full registration URL of a new link for `organisation` (created if needed)."""
    with app.app_context():
        with db.transaction() as session:
            org = get_or_create_organisation(session, organisation, name)
            created = create_link(session, org, valid_for, uses, note="test")
        return registration_url(app.config["SETTINGS"].base_url, created.token)


def open_registration(
    browser: Any, link_url: str, config_url: str, token: str | None = None
) -> Any:
    params = {"openid_configuration": config_url}
    if token is not None:
        params["registration_token"] = token
    return browser.get(link_url, params=params)
