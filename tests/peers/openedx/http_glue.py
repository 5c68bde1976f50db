"""Tiny HTTP plumbing for the Open edX platform peer (runs inside the peer's virtualenv).

Stdlib only: a request/response pair, a regex router and JSON/HTML helpers, so that the
platform logic in ``peer_app`` stays free of socket handling.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import parse_qs


class HttpError(Exception):
    """An error answered as JSON ``{"error": code, "error_description": message}``."""

    def __init__(
        self,
        status: int,
        message: str,
        error: str = "invalid_request",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error = error
        self.headers = headers or {}


@dataclass
class Request:
    """One HTTP request as seen by a route handler."""

    method: str
    path: str
    query_string: str
    headers: Message
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # named groups of the route regex

    @property
    def query(self) -> dict[str, str]:
        """Query parameters, first value of each."""
        return {k: v[0] for k, v in parse_qs(self.query_string, keep_blank_values=True).items()}

    @property
    def content_type(self) -> str:
        """Media type without parameters, lower-cased."""
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def wants_json(self) -> bool:
        """True when the client asked for JSON rather than an HTML page."""
        return "json" in (self.headers.get("Accept") or "").lower()

    def json(self) -> Any:
        """The body decoded as JSON (400 when it is not)."""
        try:
            return json.loads(self.body or b"null")
        except ValueError as err:
            raise HttpError(400, f"body is not JSON: {err}") from err

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object (400 otherwise)."""
        data = self.json()
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise HttpError(400, "body must be a JSON object")
        return data

    def form(self) -> dict[str, str]:
        """An ``application/x-www-form-urlencoded`` body, first value of each field."""
        text = self.body.decode("utf-8", errors="replace")
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}

    def params_any(self) -> dict[str, str]:
        """Query parameters overlaid by form fields (OIDC endpoints accept GET and POST)."""
        merged = self.query
        if self.method == "POST" and self.content_type == "application/x-www-form-urlencoded":
            merged.update(self.form())
        return merged


@dataclass
class Response:
    """What a handler returns."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(
    data: Any,
    status: int = 200,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    """Serialise ``data`` as JSON."""
    all_headers = {"Content-Type": content_type, "Cache-Control": "no-store"}
    all_headers.update(headers or {})
    return Response(status, json.dumps(data).encode(), all_headers)


def html_response(text: str, status: int = 200) -> Response:
    """An HTML page."""
    return Response(status, text.encode(), {"Content-Type": "text/html; charset=utf-8"})


def error_response(err: HttpError) -> Response:
    """Render an :class:`HttpError`."""
    return json_response(
        {"error": err.error, "error_description": err.message}, err.status, headers=err.headers
    )


Handler = Callable[[Request], Response]


class Router:
    """Routes ``(method, path)`` to handlers; path patterns are regexes with named groups."""

    def __init__(self) -> None:
        self._routes: list[tuple[frozenset[str], re.Pattern[str], Handler]] = []

    def add(self, methods: str, pattern: str, handler: Handler) -> None:
        """Register ``handler`` for space-separated ``methods`` and a full-match ``pattern``."""
        self._routes.append((frozenset(methods.split()), re.compile(pattern), handler))

    def dispatch(self, request: Request) -> Response:
        """Call the matching handler; 404 / 405 otherwise."""
        allowed: set[str] = set()
        for methods, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if not match:
                continue
            if request.method not in methods:
                allowed |= methods
                continue
            request.params = match.groupdict()
            return handler(request)
        if allowed:
            raise HttpError(
                405,
                f"method {request.method} not allowed",
                "method_not_allowed",
                {"Allow": ", ".join(sorted(allowed))},
            )
        raise HttpError(404, f"no route for {request.path}", "not_found")
