"""Security headers on every response, `frame-ancestors` decided per request.

The tool is framed by LMSs, but a page may be framed only by the platform it belongs to: a
page opened by a launch names that launch's platform (its issuer's and login endpoint's
origins, and the origin the platform itself gave in the signed launch as the page it came
from); the OIDC login and a refused launch name the platforms of the organisation the request
claims; anything else is `'none'`. Nothing is cached between requests, so a platform is
framable from the first request after it is registered. No inline script: CSP needs no
'unsafe-inline'.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, g
from sqlalchemy import select
from sqlalchemy.orm import Session

from ltiservice.models import Platform

# What may appear in a CSP source expression as a host: no `;`, quotes, spaces or wildcards
# can ride in from a registered URL or a launch claim.
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]{1,63}$")
_IPV6 = re.compile(r"^[0-9a-f:.]+$")


def origin_of(url: Any) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, or None when it has no safe origin."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme not in {"http", "https"}:
        return None
    if ":" in host:
        if not _IPV6.match(host):
            return None
        host = f"[{host}]"
    elif not _HOST.match(host):
        return None
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def platform_origins(platform: Platform) -> set[str]:
    """Where a platform's pages live: its issuer's and its login endpoint's origins."""
    found = {origin_of(platform.issuer), origin_of(platform.auth_login_url)}
    return {origin for origin in found if origin}


def organisation_origins(db: Session, organisation_id: int) -> set[str]:
    """The origins of every platform of one organisation."""
    rows = db.execute(
        select(Platform.issuer, Platform.auth_login_url).where(
            Platform.organisation_id == organisation_id
        )
    )
    found = {origin_of(url) for row in rows for url in row}
    return {origin for origin in found if origin}


def allow_framing(origins: Iterable[str]) -> None:
    """Let this response be framed by `origins` (on top of what the request already allows)."""
    allowed: set[str] = g.setdefault("frame_origins", set())
    allowed.update(origin for origin in origins if origin_of(origin) == origin)


def frame_ancestors() -> str:
    """The `frame-ancestors` sources of this response: the allowed origins, or 'none'."""
    allowed = sorted(g.get("frame_origins") or ())
    return " ".join(allowed) if allowed else "'none'"


_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action *; frame-ancestors "
)
# Only frame-ancestors varies per request: the rest of the headers is one constant.
_CONSTANT_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
)


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        if "Content-Security-Policy" not in headers:
            headers["Content-Security-Policy"] = _CSP + frame_ancestors()
        for name, value in _CONSTANT_HEADERS:
            if name not in headers:
                headers[name] = value
        return response
