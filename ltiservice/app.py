"""Application assembly: settings, logging, storage, LTI, views, errors, security headers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask

from ltiservice import bodies, db, errors, formats, logs, ratelimit, security
from ltiservice.config import load_settings, prepare_instance


def build_app(test_config: dict[str, Any] | None = None) -> Flask:
    settings = prepare_instance(load_settings(test_config))
    logs.configure(settings.log_level)
    app = Flask(__name__, instance_path=settings.instance_path)
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        TESTING=settings.env == "testing",
        # LMS iframes are cross-site: without these the browser drops the session.
        SESSION_COOKIE_NAME="ltiservice_session",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="None",
        SESSION_COOKIE_HTTPONLY=True,
        # The cookie ends with the session: never extended by use (each launch in it also
        # carries its own absolute end, lti/context.py).
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.session_lifetime_s),
        SESSION_REFRESH_EACH_REQUEST=False,
        MAX_CONTENT_LENGTH=(settings.max_upload_mb + 1) * 1024 * 1024,
        PREFERRED_URL_SCHEME="https" if settings.is_production else "http",
    )
    if settings.is_production:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # One reverse proxy in front (docs/security.md): its X-Forwarded-For is the client's
        # address, which the rate limits count by.

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    # A broken certification plugin must stop start-up, naming the plugin, file and field.
    from ltiservice.grading.loader import load_plugins

    app.extensions["plugins"] = load_plugins()
    db.init_app(app)
    from ltiservice.lti import adapter

    adapter.init_app(app)
    errors.init_app(app)
    formats.init_app(app)
    bodies.init_app(app)
    security.init_app(app)

    _register_blueprints(app)
    from ltiservice import xapi_iris

    xapi_iris.init_app(app)
    ratelimit.init_app(app)  # wraps views: after the blueprints
    # The built-in demo platform exists only in processes started by `ltiservice demo`.
    from ltiservice import demo

    demo.init_app(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from ltiservice.assessments.display import french_datetime
    from ltiservice.assessments.placement_views import bp as placement_bp
    from ltiservice.assessments.routing import previous_contents_summary
    from ltiservice.assessments.views import bp as assessments_bp
    from ltiservice.case_views import bp as case_bp
    from ltiservice.certification.views import bp as jury_bp
    from ltiservice.credentials_views import bp as credentials_bp
    from ltiservice.evaluations.views import bp as evaluations_bp
    from ltiservice.health import bp as health_bp
    from ltiservice.lti.registration import bp as registration_bp
    from ltiservice.lti.views import bp as lti_bp
    from ltiservice.web.admin import bp as admin_bp
    from ltiservice.web.console import bp as console_bp
    from ltiservice.web.views import bp as web_bp

    # The notice of re-selected content, shown on the trainers' and the learners' pages.
    app.jinja_env.globals["previous_contents"] = lambda assessment: previous_contents_summary(
        db.session(), assessment
    )
    app.jinja_env.globals["french_date"] = french_datetime
    for blueprint in (
        health_bp,
        lti_bp,
        registration_bp,
        web_bp,
        placement_bp,
        assessments_bp,
        evaluations_bp,
        admin_bp,
        console_bp,
        jury_bp,
        case_bp,
        credentials_bp,
    ):
        app.register_blueprint(blueprint)
