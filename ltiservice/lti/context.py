"""Who is asking: the identity a validated launch established, checked on every request.

The browser session (a signed cookie) holds the few most recent launches, each under its
launch id; pages carry that id, so two tabs in two courses never mix their contexts.
Nothing here is ever read from query parameters alone.

A launch is good for `session_lifetime_s` from the moment it was validated, however often it
is used (the cookie is not refreshed by use either). The roles it carries are good only while
they are the person's latest roles in that course: the shared store keeps, per person and
course, the roles of their latest launch under a generation id that every launch copies; a
launch with other roles (a role removed in the LMS, say) starts a new generation, which ends
every earlier launch of that person there, in every browser.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from flask import abort, session

from ltiservice.errors import AuthorisationError
from ltiservice.lti import adapter
from ltiservice.lti.roles import Role
from ltiservice.security import allow_framing

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
    # Our Deployment row: resource link ids are unique within a deployment only.
    deployment_id: int | None = None
    assessment_id: int | None = None
    csrf_token: str = ""
    issued_at: float = 0.0  # when the launch was validated (epoch seconds)
    frame_origins: tuple[str, ...] = ()  # who may frame this launch's pages (security.py)
    roles_generation: str = ""  # the person's roles in this course when it was launched

    def has(self, role: Role) -> bool:
        return role.value in self.roles

    @property
    def is_trainer(self) -> bool:
        return self.has(Role.TRAINER) or self.has(Role.ADMINISTRATOR)


def remember_launch(context: LaunchContext) -> LaunchContext:
    """Store the launch in the browser session, dropping expired ones and the oldest beyond
    the cap, and make its roles the person's roles in this course from now on."""
    now = time.time()
    context = LaunchContext(
        **{
            **asdict(context),
            "csrf_token": secrets.token_urlsafe(32),
            "issued_at": now,
            "roles_generation": _record_roles(context),
        }
    )
    launches: dict[str, Any] = {
        launch_id: data
        for launch_id, data in dict(session.get("launches", {})).items()
        if not _expired(data, now) and not _superseded_by(data, context)
    }
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
    held: dict[str, Any] = session.get("launches", {})
    data = held.get(launch_id) if launch_id else None
    # Even a refusal is shown inside the LMS frame of the platforms this browser came from.
    _allow_framing_by([data] if data else held.values())
    if not launch_id:
        raise AuthorisationError(
            "Cette page s'ouvre depuis votre plateforme de formation : relancez l'activité.",
            code="no_launch",
            status=401,
        )
    if data is None:
        raise AuthorisationError(
            "Votre session a expiré ou a été ouverte dans un autre navigateur : relancez "
            "l'activité depuis votre plateforme de formation.",
            code="unknown_launch",
            status=401,
        )
    if _expired(data, time.time()):
        raise AuthorisationError(
            "Votre session a expiré : relancez l'activité depuis votre plateforme de formation.",
            code="session_expired",
            status=401,
        )
    values = dict(data)
    values["roles"] = tuple(values.get("roles", ()))
    values["frame_origins"] = tuple(values.get("frame_origins", ()))
    context = LaunchContext(**values)
    if not _roles_current(context):
        raise AuthorisationError(
            "Vos rôles dans ce cours ont changé depuis ce lancement : relancez l'activité "
            "depuis votre plateforme de formation.",
            code="roles_changed",
            status=401,
        )
    return context


def _expired(data: Any, now: float) -> bool:
    """A launch older than the session lifetime, or from before launches carried a date."""
    issued_at = data.get("issued_at") if isinstance(data, dict) else None
    if not isinstance(issued_at, int | float):
        return True
    return bool(now - issued_at >= adapter.settings().session_lifetime_s)


def _superseded_by(data: Any, context: LaunchContext) -> bool:
    """An earlier launch of the same person in the same course, with other roles."""
    return (
        isinstance(data, dict)
        and data.get("person_id") == context.person_id
        and data.get("course_id") == context.course_id
        and tuple(data.get("roles", ())) != context.roles
    )


def _roles_key(context: LaunchContext) -> str:
    return f"roles-{context.person_id}-{context.course_id or 0}"


def _record_roles(context: LaunchContext) -> str:
    """Make the launch's roles the person's roles in this course; return their generation.

    The generation changes only when the roles do, so other tabs with the same roles keep
    working; the entry lives as long as the newest launch holding it can, and a minute more.
    """
    store, lifetime = adapter.store(), adapter.settings().session_lifetime_s
    known = store.get(_roles_key(context))
    roles = list(context.roles)
    if isinstance(known, dict) and known.get("roles") == roles and known.get("generation"):
        generation = str(known["generation"])
    else:
        generation = secrets.token_urlsafe(12)
    store.set(_roles_key(context), {"roles": roles, "generation": generation}, lifetime + 60)
    return generation


def _roles_current(context: LaunchContext) -> bool:
    """The launch holds the person's latest roles in this course."""
    known = adapter.store().get(_roles_key(context))
    return (
        isinstance(known, dict)
        and bool(context.roles_generation)
        and known.get("generation") == context.roles_generation
        and known.get("roles") == list(context.roles)
    )


def _allow_framing_by(launches: Iterable[Any]) -> None:
    for data in launches:
        if isinstance(data, dict):
            allow_framing(o for o in data.get("frame_origins", ()) if isinstance(o, str))


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
