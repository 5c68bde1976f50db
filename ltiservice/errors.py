"""One error hierarchy, rendered in one place: French HTML for people, JSON for API clients."""

from __future__ import annotations

import logging
from typing import Any

import redis.exceptions
import sqlalchemy.exc
from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """An error a person or client can act on. `message` is French and safe to show."""

    status = 400
    code = "bad_request"
    title = "Requête invalide"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details or {}
        self.hint = hint


class LaunchError(ServiceError):
    """An LTI message failed validation."""

    status = 403
    code = "invalid_launch"
    title = "Lancement LTI refusé"


class AuthorisationError(ServiceError):
    status = 403
    code = "forbidden"
    title = "Accès refusé"


class NotFoundError(ServiceError):
    status = 404
    code = "not_found"
    title = "Introuvable"


class ConflictError(ServiceError):
    status = 409
    code = "conflict"
    title = "Action impossible"


_HTTP_TITLES = {
    400: "Requête invalide",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    413: "Envoi trop volumineux",
    429: "Trop de requêtes",
    500: "Erreur interne",
}


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def render_error(
    status: int,
    code: str,
    title: str,
    message: str,
    details: dict[str, Any] | None = None,
    hint: str | None = None,
) -> Response:
    if _wants_json():
        response = jsonify({"error": code, "message": message, "details": details or {}})
    else:
        response = Response(
            render_template("error.html", title=title, message=message, hint=hint, status=status),
            mimetype="text/html",
        )
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    """Register the handlers that turn every error into a page or a JSON body."""

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError) -> Response:
        log.info("refused %s %s: %s (%s)", request.method, request.path, exc.code, exc.status)
        return render_error(exc.status, exc.code, exc.title, exc.message, exc.details, exc.hint)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        if isinstance(exc.response, Response):  # built by us already (rate limits)
            return exc.response
        status = exc.code or 500
        title = _HTTP_TITLES.get(status, "Erreur")
        message = {
            404: "Cette adresse ne correspond à aucune page du service.",
            405: "Cette action n'est pas possible avec cette méthode.",
            413: "Le fichier ou le formulaire envoyé dépasse la taille autorisée.",
        }.get(status, "La requête n'a pas pu être traitée.")
        return render_error(status, f"http_{status}", title, message)

    @app.errorhandler(sqlalchemy.exc.OperationalError)
    @app.errorhandler(sqlalchemy.exc.InterfaceError)
    def _database_down(exc: Exception) -> Response:
        # The transaction was rolled back whole; the pool reconnects on the next request.
        log.warning(
            "database unavailable on %s %s: %s", request.method, request.path, type(exc).__name__
        )
        return render_error(
            503,
            "database_unavailable",
            "Service momentanément indisponible",
            "La base de données ne répond pas. Rien n'a été enregistré par cette action : "
            "réessayez dans un instant.",
        )

    @app.errorhandler(redis.exceptions.ConnectionError)
    @app.errorhandler(redis.exceptions.TimeoutError)
    def _store_down(exc: Exception) -> Response:
        # Launch state, nonces and the roles each page checks live in the shared store.
        log.warning(
            "shared store unavailable on %s %s: %s",
            request.method,
            request.path,
            type(exc).__name__,
        )
        return render_error(
            503,
            "store_unavailable",
            "Service momentanément indisponible",
            "Le service ne peut pas vérifier votre session pour l'instant. Rien n'a été "
            "enregistré par cette action : réessayez dans un instant.",
        )

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return render_error(
            500,
            "internal_error",
            _HTTP_TITLES[500],
            "Une erreur inattendue est survenue. Réessayez ; si elle persiste, "
            "contactez l'administrateur du service.",
        )
