"""LTI Advantage service clients (access tokens, AGS, NRPS) and their factory from the app.

Outside a request (the outbox worker), either call these inside `app.app_context()` or build
`TokenProvider` / `AgsClient` / `NrpsClient` directly from the store, keyring and HTTP session.
"""

from __future__ import annotations

from flask import Flask, current_app

from ltiservice.lti.services.ags import (
    AGS_SCOPES,
    AgsClient,
    LineItem,
    Result,
    Score,
)
from ltiservice.lti.services.errors import (
    ServiceCallError,
    ServiceConflictError,
    ServiceNotFoundError,
    TokenError,
)
from ltiservice.lti.services.nrps import SCOPE_MEMBERSHIP, Member, NrpsClient, Roster
from ltiservice.lti.services.token import PlatformAuth, TokenProvider
from ltiservice.models import Platform

__all__ = [
    "AGS_SCOPES",
    "SCOPE_MEMBERSHIP",
    "AgsClient",
    "LineItem",
    "Member",
    "NrpsClient",
    "PlatformAuth",
    "Result",
    "Roster",
    "Score",
    "ServiceCallError",
    "ServiceConflictError",
    "ServiceNotFoundError",
    "TokenError",
    "TokenProvider",
    "ags_client",
    "nrps_client",
    "token_provider",
]


def token_provider(app: Flask | None = None) -> TokenProvider:
    """The app's TokenProvider (one per process, created on first use)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    provider = app.extensions.get("lti_tokens")
    if provider is None:
        provider = TokenProvider(
            app.extensions["lti_store"],
            app.extensions["lti_keyring"],
            app.extensions["lti_http"],
            app.config["SETTINGS"].http_timeout_s,
        )
        app.extensions["lti_tokens"] = provider
    return provider  # type: ignore[no-any-return]


def ags_client(platform: Platform | PlatformAuth, app: Flask | None = None) -> AgsClient:
    """An AGS client for `platform` on the app's shared token cache and HTTP session."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return AgsClient(
        platform,
        token_provider(app),
        app.extensions["lti_http"],
        app.config["SETTINGS"].http_timeout_s,
    )


def nrps_client(platform: Platform | PlatformAuth, app: Flask | None = None) -> NrpsClient:
    """An NRPS client for `platform` on the app's shared token cache and HTTP session."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return NrpsClient(
        platform,
        token_provider(app),
        app.extensions["lti_http"],
        app.config["SETTINGS"].http_timeout_s,
    )
