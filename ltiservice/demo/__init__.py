"""A demonstration LTI 1.3 platform living inside the service, enabled only by `ltiservice demo`.

It lets a person try the learner and trainer flows without an LMS, through the service's
real `/lti/login` and `/lti/launch` (state cookie, nonce, signature checked against the demo
platform's JWKS fetched over HTTP). Never registered unless `demo_enabled` is set.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the demo blueprints when the demo is enabled; do nothing otherwise."""
    if not app.config["SETTINGS"].demo_enabled:
        return
    from ltiservice.demo.api import bp as api_bp
    from ltiservice.demo.views import bp as views_bp

    app.register_blueprint(views_bp)
    app.register_blueprint(api_bp)
