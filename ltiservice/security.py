"""Security headers on every response.

The tool is framed by LMSs: `frame-ancestors` lists the origins of registered platforms
instead of forbidding framing altogether. No inline script: CSP needs no 'unsafe-inline'.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Flask, Response, current_app
from sqlalchemy import select

from ltiservice import db
from ltiservice.models import Platform

_ANCESTORS_TTL_S = 30.0


def _frame_ancestors() -> str:
    cache = current_app.extensions.setdefault("frame_ancestors", {"at": 0.0, "value": ""})
    if time.monotonic() - cache["at"] > _ANCESTORS_TTL_S:
        origins = set()
        for issuer, login_url in db.session().execute(
            select(Platform.issuer, Platform.auth_login_url)
        ):
            for url in (issuer, login_url):
                parts = urlsplit(url)
                if parts.scheme in {"http", "https"} and parts.netloc:
                    origins.add(f"{parts.scheme}://{parts.netloc}")
        cache["value"] = " ".join(sorted(origins))
        cache["at"] = time.monotonic()
    return "'self' " + cache["value"] if cache["value"] else "'self'"


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        csp = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; form-action *; "
            f"frame-ancestors {_frame_ancestors()}"
        )
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        return response
