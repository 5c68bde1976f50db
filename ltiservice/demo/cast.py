"""The demo's fixed world: one course, its cast, and the registration the service knows it by."""

from __future__ import annotations

from dataclasses import dataclass

CLIENT_ID = "ltiservice-demo"
DEPLOYMENT_ID = "demo-deployment"
ORGANISATION_SLUG = "demo"
ORGANISATION_NAME = "Organisme de formation de démonstration"
PLATFORM_NAME = "Plateforme de démonstration (ltiservice demo)"
COURSE_ID = "demo-cqp-crca"
COURSE_TITLE = "CQP Conseiller relation client à distance en assurance — démonstration"
COURSE_LABEL = "CRCA-DEMO"
# The assessment the demo command places on first run, so the demo is ready to use.
FIRST_LINK_ID = "demo-crca-b2b"
FIRST_CERTIFICATION = "CRCA"
FIRST_BLOCK = "B2B"

LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


@dataclass(frozen=True)
class CastMember:
    """A demo person: what the demo platform sends in the launch and lists in NRPS."""

    key: str
    sub: str
    given_name: str
    family_name: str
    role: str  # an LTI context role URI
    label: str  # French, shown on the demo home page

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def email(self) -> str:
        return f"{self.given_name.lower()}.{self.family_name.lower()}@demo.invalid"

    @property
    def is_trainer(self) -> bool:
        return self.role == INSTRUCTOR


CAST: tuple[CastMember, ...] = (
    CastMember("camille", "demo-camille", "Camille", "Martin", LEARNER, "apprenante"),
    CastMember("lucas", "demo-lucas", "Lucas", "Bernard", LEARNER, "apprenant"),
    CastMember(
        "nadia", "demo-nadia", "Nadia", "Haddad", INSTRUCTOR, "formatrice — évaluatrice hiérarchie"
    ),
    CastMember(
        "thomas", "demo-thomas", "Thomas", "Petit", INSTRUCTOR, "évaluateur — autre service"
    ),
)

PLACER = "nadia"  # the trainer who places assessments through deep linking


def member(key: str) -> CastMember | None:
    """The cast member with this key, or None."""
    return next((m for m in CAST if m.key == key), None)


def member_by_sub(sub: str) -> CastMember | None:
    return next((m for m in CAST if m.sub == sub), None)
