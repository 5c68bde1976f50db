"""Authorised HTTP calls to a platform's services: token, one retry on 401, typed errors, paging.

One `requests.Session` is shared (connection pooling); every call has a timeout. Service URLs
come from the platform (launch claims), so they are used as given, query string included.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

import requests

from ltiservice.lti.services.errors import (
    ServiceCallError,
    ServiceConflictError,
    ServiceNotFoundError,
    parse_retry_after,
)
from ltiservice.lti.services.token import PlatformAuth, TokenProvider
from ltiservice.models import Platform

log = logging.getLogger(__name__)

MAX_PAGES = 1000  # a platform whose "next" links never end must not hold a worker forever


class ServiceTransport:
    """Sends requests to one platform with a bearer token for the given scopes."""

    def __init__(
        self,
        platform: Platform | PlatformAuth,
        tokens: TokenProvider,
        http: requests.Session,
        timeout: float,
    ) -> None:
        self.platform = PlatformAuth.of(platform)
        self._tokens = tokens
        self._http = http
        self._timeout = timeout

    def request(
        self,
        method: str,
        url: str,
        scopes: Iterable[str],
        what: str,
        *,
        accept: str | None = None,
        json_body: Any = None,
        content_type: str | None = None,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        """One call; a 401 drops the cached token and retries once with a fresh one."""
        scopes = tuple(scopes)
        headers = {}
        if accept:
            headers["Accept"] = accept
        if content_type:
            headers["Content-Type"] = content_type
        for attempt in (1, 2):
            token = self._tokens.token(self.platform, scopes)
            response = self._send(method, url, what, token, headers, json_body, params)
            if response.status_code != 401 or attempt == 2:
                break
            log.info("%s: token refused (401), fetching a new one", what)
            self._tokens.invalidate(self.platform, scopes, token)
        if response.status_code >= 400:
            raise error_for(response, what)
        return response

    def pages(
        self,
        url: str,
        scopes: Iterable[str],
        what: str,
        *,
        accept: str,
        params: dict[str, str] | None = None,
    ) -> Iterator[requests.Response]:
        """The first page, then each `Link: <…>; rel="next"` page, each fetched once."""
        seen: set[str] = set()
        next_url: str | None = url
        next_params = params
        while next_url and len(seen) < MAX_PAGES:
            response = self.request(
                "GET", next_url, scopes, what, accept=accept, params=next_params
            )
            seen.add(response.url)
            yield response
            link = response.links.get("next", {}).get("url")
            # The next link carries its own query: parameters are not sent twice.
            next_url, next_params = (link, None) if link and link not in seen else (None, None)

    def _send(
        self,
        method: str,
        url: str,
        what: str,
        token: str,
        headers: dict[str, str],
        json_body: Any,
        params: dict[str, str] | None,
    ) -> requests.Response:
        try:
            return self._http.request(
                method,
                url,
                headers={**headers, "Authorization": f"Bearer {token}"},
                json=json_body,
                params=params,
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise ServiceCallError(
                f"La plateforme est injoignable ({what}).",
                details={"reason": type(exc).__name__, "operation": what},
            ) from exc


def error_for(response: requests.Response, what: str) -> ServiceCallError:
    """The typed error for an HTTP failure of a service call."""
    status = response.status_code
    platform_message = response.text[:300] if response.text else None
    common: dict[str, Any] = {
        "http_status": status,
        "retry_after_s": parse_retry_after(response.headers.get("Retry-After")),
        "platform_message": platform_message,
        "details": {"operation": what},
    }
    if status == 409:
        return ServiceConflictError(
            f"La plateforme a refusé l'envoi car elle détient une donnée plus récente ({what}).",
            **common,
        )
    if status == 404:
        return ServiceNotFoundError(
            f"L'élément n'existe plus sur la plateforme ({what}).", **common
        )
    if status in (401, 403):
        return ServiceCallError(
            f"La plateforme refuse l'accès de l'outil à ce service ({what}).", **common
        )
    return ServiceCallError(f"La plateforme a répondu HTTP {status} ({what}).", **common)


def json_of(response: requests.Response, what: str) -> Any:
    """The JSON body, or a typed error naming the operation."""
    try:
        return response.json()
    except ValueError as exc:
        raise ServiceCallError(
            f"La réponse de la plateforme est illisible ({what}).",
            http_status=response.status_code,
            retryable=False,
            details={"operation": what},
        ) from exc
