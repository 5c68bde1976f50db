"""LTI Names and Role Provisioning Services 2.0 client: a context's roster, all pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from ltiservice.lti.services.errors import ServiceCallError
from ltiservice.lti.services.token import PlatformAuth, TokenProvider
from ltiservice.lti.services.transport import ServiceTransport, json_of
from ltiservice.models import Platform

SCOPE_MEMBERSHIP = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEDIA_MEMBERSHIP = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


@dataclass(frozen=True)
class Member:
    """One person of the roster; name and email only when the platform shares them."""

    user_id: str
    roles: tuple[str, ...]
    status: str = "Active"
    name: str | None = None
    email: str | None = None
    given_name: str | None = None
    family_name: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> Member:
        if not isinstance(data, dict) or not data.get("user_id"):
            raise ServiceCallError("La plateforme a renvoyé un membre illisible.", retryable=False)
        roles = data.get("roles") or []
        return cls(
            user_id=str(data["user_id"]),
            roles=tuple(str(r) for r in roles) if isinstance(roles, list) else (),
            status=str(data.get("status") or "Active"),
            name=data.get("name"),
            email=data.get("email"),
            given_name=data.get("given_name"),
            family_name=data.get("family_name"),
        )


@dataclass(frozen=True)
class Roster:
    """The members of one context, as read across every page."""

    context_id: str | None
    context_title: str | None
    members: tuple[Member, ...]
    pages: int


class NrpsClient:
    """Reads context memberships of one platform."""

    def __init__(
        self,
        platform: Platform | PlatformAuth,
        tokens: TokenProvider,
        http: requests.Session,
        timeout: float,
    ) -> None:
        self._transport = ServiceTransport(platform, tokens, http, timeout)

    def members(
        self, memberships_url: str, *, role: str | None = None, limit: int | None = None
    ) -> Roster:
        """Every member (optionally of one role), following `rel="next"` links.

        `limit` is the page size asked of the platform, not a cap on the result.
        """
        params = {k: v for k, v in {"role": role, "limit": limit and str(limit)}.items() if v}
        context: dict[str, Any] = {}
        members: list[Member] = []
        pages = 0
        for page in self._transport.pages(
            memberships_url,
            [SCOPE_MEMBERSHIP],
            "lecture de la liste des participants",
            accept=MEDIA_MEMBERSHIP,
            params=params or None,
        ):
            pages += 1
            body = json_of(page, "lecture de la liste des participants")
            if not isinstance(body, dict) or not isinstance(body.get("members"), list):
                raise ServiceCallError("La liste des participants est illisible.", retryable=False)
            context = context or (body.get("context") or {})
            members.extend(Member.from_json(entry) for entry in body["members"])
        return Roster(
            context_id=context.get("id"),
            context_title=context.get("title"),
            members=tuple(members),
            pages=pages,
        )
