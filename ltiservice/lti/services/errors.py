"""Typed failures of calls to a platform's LTI Advantage services (token, AGS, NRPS).

Each error carries the platform's HTTP status (None when the platform was not reached), a
French message safe to show, and whether a later retry may succeed, so the outbox worker can
choose between backoff and dead letter without parsing anything. Messages never contain an
access token, an assertion or a registration token.
"""

from __future__ import annotations

from typing import Any

from ltiservice.errors import ServiceError


class ServiceCallError(ServiceError):
    """A call to a platform service failed (network, HTTP status or unreadable answer)."""

    status = 502
    code = "lti_service_error"
    title = "Service de la plateforme indisponible"

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        retryable: bool | None = None,
        retry_after_s: float | None = None,
        platform_message: str | None = None,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        merged = {"http_status": http_status, **(details or {})}
        super().__init__(message, code=code, details=merged)
        self.http_status = http_status
        self.retryable = _default_retryable(http_status) if retryable is None else retryable
        self.retry_after_s = retry_after_s
        # What the platform said (truncated), for logs and the dead-letter view; never ours.
        self.platform_message = platform_message


class TokenError(ServiceCallError):
    """No access token could be obtained from the platform's token endpoint."""

    code = "lti_token_error"
    title = "Autorisation refusée par la plateforme"


class ServiceConflictError(ServiceCallError):
    """HTTP 409: for scores, a timestamp not newer than the one the platform holds."""

    code = "lti_service_conflict"
    title = "Envoi refusé par la plateforme"


class ServiceNotFoundError(ServiceCallError):
    """HTTP 404: the line item, result or roster no longer exists on the platform."""

    code = "lti_service_not_found"
    title = "Élément introuvable sur la plateforme"


def _default_retryable(http_status: int | None) -> bool:
    # Network failures, throttling and server errors may pass later; other 4xx will not.
    return http_status is None or http_status in {408, 425, 429} or http_status >= 500


def parse_retry_after(raw: str | None) -> float | None:
    """Seconds from a `Retry-After` header given in seconds (HTTP dates are ignored)."""
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None
