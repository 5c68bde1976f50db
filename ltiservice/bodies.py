"""Request bodies that cannot crash a view: JSON too deep or too large is refused up front.

Python's JSON parser recurses once per nesting level: 1,000 nested `[` raise RecursionError,
which `get_json(silent=True)` does not catch (it only catches ValueError), so views answered
500. Here every JSON body is parsed once, before the view, with a size cap (`max_body_kb`,
413) and a depth cap (400); whatever parses is nested at most `MAX_JSON_DEPTH` levels, so no
view, serializer or `repr` downstream can recurse on it either. Forms and multipart bodies are
bounded by Werkzeug (`MAX_CONTENT_LENGTH`, `MAX_FORM_MEMORY_SIZE`, `MAX_FORM_PARTS`: 413).
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import Flask, Request, request
from flask.json.provider import DefaultJSONProvider

from ltiservice.errors import ServiceError

# The service's own bodies are three levels deep; 32 leaves room and stays far from recursion.
MAX_JSON_DEPTH = 32


class JsonBodyError(ValueError):
    """A JSON text nested deeper than MAX_JSON_DEPTH (a ValueError, like any unreadable JSON)."""


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when `value` nests lists/objects deeper than `limit` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing (ValueError) what is nested too deep to handle safely."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError as exc:
            raise JsonBodyError("JSON nested too deep") from exc
        if too_deep(value):
            raise JsonBodyError("JSON nested too deep")
        return value


class ServiceRequest(Request):
    """A request whose unreadable JSON body is a French 400, like every other error."""

    def on_json_loading_failed(self, e: ValueError | None) -> NoReturn:
        if isinstance(e, JsonBodyError):
            raise ServiceError(
                f"Le contenu JSON envoyé est imbriqué sur plus de {MAX_JSON_DEPTH} niveaux.",
                code="bad_json",
            )
        raise ServiceError("Le contenu JSON envoyé est illisible.", code="bad_json")


def init_app(app: Flask) -> None:
    """Install the bounded JSON provider; cap and read JSON and form bodies before the views."""
    app.json = BoundedJSONProvider(app)
    app.request_class = ServiceRequest
    limit = app.config["SETTINGS"].max_body_kb * 1024

    @app.before_request
    def _bound_body() -> None:
        is_form = request.mimetype == "application/x-www-form-urlencoded"
        if not (request.is_json or is_form):
            return
        # Larger than any such body the service reads: 413 before it is read into memory.
        request.max_content_length = min(limit, request.max_content_length or limit)
        if request.is_json:
            request.get_json()  # cached for the view; refused here with a French 400
