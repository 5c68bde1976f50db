"""LTI role URIs mapped to the service's three roles."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    LEARNER = "learner"
    TRAINER = "trainer"
    ADMINISTRATOR = "administrator"


_CONTEXT = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
_INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
_SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"

# Short names (LTI 1.1 style, still sent by some platforms) are accepted as context roles.
_TRAINER_NAMES = {"Instructor", "TeachingAssistant"}
_ADMIN_URIS = {
    _INSTITUTION + "Administrator",
    _SYSTEM + "Administrator",
    _SYSTEM + "SysAdmin",
    _CONTEXT + "Administrator",
}


def _context_role_name(uri: str) -> str | None:
    if uri.startswith(_CONTEXT):
        name = uri[len(_CONTEXT) :]
        return name.split("#")[0].split("/")[0]
    if "/" not in uri and "#" not in uri:
        return uri
    return None


def map_roles(uris: Iterable[str]) -> frozenset[Role]:
    """Our roles for a launch's role claim. Sub-roles (…#Instructor/Grader) count as their base."""
    roles: set[Role] = set()
    for uri in uris:
        if not isinstance(uri, str):
            continue
        if uri in _ADMIN_URIS:
            roles.add(Role.ADMINISTRATOR)
        name = _context_role_name(uri)
        if name in _TRAINER_NAMES:
            roles.add(Role.TRAINER)
        elif name == "Learner":
            roles.add(Role.LEARNER)
    return frozenset(roles)
