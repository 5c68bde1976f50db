"""Who is asking: the identity a validated launch established, checked on every request.

The browser session (a signed cookie) holds the few most recent launches, each under its
launch id; pages carry that id, so two tabs in two courses never mix their contexts.
Nothing here is ever read from query parameters alone.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from typing import Any

from flask import abort, session

from ltiservice.errors import AuthorisationError
from ltiservice.lti.roles import Role

MAX_LAUNCHES_PER_BROWSER = 8


@dataclass(frozen=True)
class LaunchContext:
    """The facts of one validated launch that authorisation decisions rest on."""

    launch_id: str
    organisation_id: int
    platform_id: int
    person_id: int
    course_id: int | None
    roles: tuple[str, ...]
    message_type: str
    resource_link_id: str | None = None
    assessment_id: int | None = None
    csrf_token: str = ""

    def has(self, role: Role) -> bool:
        return role.value in self.roles

    @property
    def is_trainer(self) -> bool:
        return self.has(Role.TRAINER) or self.has(Role.ADMINISTRATOR)


def remember_launch(context: LaunchContext) -> LaunchContext:
    """Store the launch in the browser session, dropping the oldest beyond the cap."""
    context = LaunchContext(**{**asdict(context), "csrf_token": secrets.token_urlsafe(32)})
    launches: dict[str, Any] = dict(session.get("launches", {}))
    launches[context.launch_id] = asdict(context)
    while len(launches) > MAX_LAUNCHES_PER_BROWSER:
        launches.pop(next(iter(launches)))
    session["launches"] = launches
    session.permanent = True
    return context


def update_launch(context: LaunchContext, **changes: Any) -> LaunchContext:
    launches: dict[str, Any] = dict(session.get("launches", {}))
    updated = LaunchContext(**{**asdict(context), **changes})
    launches[context.launch_id] = asdict(updated)
    session["launches"] = launches
    return updated


def current_launch(launch_id: str | None) -> LaunchContext:
    """The launch this page belongs to, or a 401 page telling the person to relaunch."""
    if not launch_id:
        raise AuthorisationError(
            "Cette page s'ouvre depuis votre plateforme de formation : relancez l'activité.",
            code="no_launch",
            status=401,
        )
    data = session.get("launches", {}).get(launch_id)
    if data is None:
        raise AuthorisationError(
            "Votre session a expiré ou a été ouverte dans un autre navigateur : relancez "
            "l'activité depuis votre plateforme de formation.",
            code="unknown_launch",
            status=401,
        )
    data = dict(data)
    data["roles"] = tuple(data.get("roles", ()))
    return LaunchContext(**data)


def require_trainer(context: LaunchContext) -> None:
    if not context.is_trainer:
        raise AuthorisationError(
            "Cette page est réservée aux formateurs et évaluateurs du cours.", code="not_trainer"
        )


def check_csrf(context: LaunchContext, token: str | None) -> None:
    """Refuse (400) a state change whose token is not this launch's.

    Compared as bytes: `compare_digest` raises TypeError on non-ASCII str, and a forged
    token may hold anything (headers arrive as latin-1).
    """
    expected = context.csrf_token.encode()
    given = (token or "").encode("utf-8", "replace")
    if not given or not expected or not secrets.compare_digest(given, expected):
        abort(400, description="csrf")
