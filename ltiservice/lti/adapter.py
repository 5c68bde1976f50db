"""Builds pylti1p3 objects for the current Flask request from the app's shared pieces."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, render_template, session
from pylti1p3.contrib.flask import FlaskOIDCLogin, FlaskRequest

from ltiservice import db
from ltiservice.config import Settings
from ltiservice.lti.keys import KeyRing
from ltiservice.lti.launch import ToolMessageLaunch
from ltiservice.lti.storage import SecureCookieService, SharedLaunchDataStorage
from ltiservice.lti.store import SharedStore, build_store
from ltiservice.lti.tool_conf import DatabaseToolConf
from ltiservice.net.outbound import OutboundSession, build_session, document_policy, service_policy

LOGIN_PARAMS = (
    "iss",
    "login_hint",
    "target_link_uri",
    "lti_message_hint",
    "lti_deployment_id",
    "client_id",
)


class ToolOIDCLogin(FlaskOIDCLogin):  # type: ignore[misc]
    """OIDC login whose cookie check is a French, accessible page with no inline script.

    Inside an LMS iframe the browser may refuse third-party cookies; the page tests that,
    then either continues here or offers to open the activity in a new window.
    """

    def get_cookies_allowed_js_check(self) -> str:
        params = {"lti1p3_new_window": "1"}
        for key in LOGIN_PARAMS:
            value = self._get_request_param(key)
            if value:
                params[key] = value
        return _cookie_check_page(params)


_PLACEHOLDER = {"ltiservice-params": "placeholder"}


def _cookie_check_page(params: dict[str, str]) -> str:
    """The cookie-check page: rendered once per process with a placeholder, then each
    request's parameters put in through the template's own `tojson|forceescape` filters.

    A session holding flashed messages gets the page rendered in full (they show on it).
    """
    if "_flashes" in session:
        return render_template("lti/cookie_check.html", params=params)
    attribute = _cookie_check_attribute
    shell = current_app.extensions.get("lti_cookie_check_page")
    if shell is None:
        shell = render_template("lti/cookie_check.html", params=_PLACEHOLDER)
        current_app.extensions["lti_cookie_check_page"] = shell
    return shell.replace(attribute(_PLACEHOLDER), attribute(params), 1)  # type: ignore[no-any-return]


def _cookie_check_attribute(params: dict[str, str]) -> str:
    template = current_app.extensions.get("lti_cookie_check_attribute")
    if template is None:  # the very expression the page's template uses
        template = current_app.jinja_env.from_string("{{ params|tojson|forceescape }}")
        current_app.extensions["lti_cookie_check_attribute"] = template
    return template.render(params=params)  # type: ignore[no-any-return]


def init_app(app: Flask) -> None:
    settings: Settings = app.config["SETTINGS"]
    # Browsers that block third-party cookies still keep partitioned ones (CHIPS) in an LMS
    # iframe: with platform storage proving the state, the session survives the launch.
    app.config["SESSION_COOKIE_PARTITIONED"] = True
    app.extensions["lti_store"] = build_store(
        settings.redis_url, app.extensions["db_engine"], settings.redis_prefix
    )
    app.extensions["lti_keyring"] = KeyRing(settings.keys_dir)
    app.extensions["lti_http"] = build_session(service_policy(settings))
    app.extensions["lti_http_documents"] = build_session(document_policy(settings))


def settings() -> Settings:
    return current_app.config["SETTINGS"]  # type: ignore[no-any-return]


def store() -> SharedStore:
    return current_app.extensions["lti_store"]  # type: ignore[no-any-return]


def keyring() -> KeyRing:
    return current_app.extensions["lti_keyring"]  # type: ignore[no-any-return]


def http() -> OutboundSession:
    """For platforms' services (token, AGS, NRPS)."""
    return current_app.extensions["lti_http"]  # type: ignore[no-any-return]


def document_http() -> OutboundSession:
    """For small documents: OpenID configurations, registration answers, JWKS."""
    return current_app.extensions["lti_http_documents"]  # type: ignore[no-any-return]


def tool_conf() -> DatabaseToolConf:
    """The request's tool configuration: one per request, so each platform is read once."""
    if "lti_tool_conf" not in g:
        g.lti_tool_conf = DatabaseToolConf(db.session(), keyring())
    return g.lti_tool_conf  # type: ignore[no-any-return]


def _storage() -> SharedLaunchDataStorage:
    return SharedLaunchDataStorage(store(), settings().launch_lifetime_s)


def new_oidc_login(request: FlaskRequest) -> tuple[ToolOIDCLogin, SecureCookieService]:
    cookies = SecureCookieService(request)
    login = ToolOIDCLogin(
        request, tool_conf(), cookie_service=cookies, launch_data_storage=_storage()
    )
    login.enable_check_cookies()
    return login, cookies


def new_message_launch(request: FlaskRequest) -> tuple[ToolMessageLaunch, SecureCookieService]:
    cookies = SecureCookieService(request)
    conf = settings()
    launch = ToolMessageLaunch(
        request,
        tool_conf(),
        cookie_service=cookies,
        storage=_storage(),
        store=store(),
        base_url=conf.base_url,
        leeway_s=conf.jwt_leeway_s,
        jwks_ttl_s=conf.jwks_cache_lifetime_s,
        jwks_refetch_s=conf.jwks_refetch_interval_s,
        jwks_refetch_max=conf.jwks_refetch_max,
        http=document_http(),
    )
    launch.set_launch_data_lifetime(conf.launch_lifetime_s)
    return launch, cookies


def launch_url() -> str:
    return settings().base_url.rstrip("/") + "/lti/launch"


def tool_url(path: str) -> str:
    return settings().base_url.rstrip("/") + path


def flask_request(**kwargs: Any) -> FlaskRequest:
    return FlaskRequest(**kwargs)
