"""The xAPI vocabulary ltiservice emits: borrowed IRIs as constants, ours under a base IRI.

Borrowed IRIs (ADL, Activity Streams, Tin Can registry) are used wherever one fits, so that any
LRS dashboard already knows them. Our own IRIs (the profile, the ``achieved`` verb, activity
types, extensions, and every activity we mint) live under one base IRI that the operator
chooses (the organisation's or the branch's domain: setting ``xapi_iri_base``), because an IRI
should dereference and we own no domain of our own. ``Vocabulary(base)`` spells them out; the
published profile (``xapi.profile.build_profile``) is built from the same object, so the two
cannot drift apart.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote, urlsplit

# The profile version. Bump it (and the templates' version) when a template's rules change.
PROFILE_VERSION_NUMBER: Final = "2.0"

# UUIDv5 namespace for statement ids, fixed once (it was uuid5(NAMESPACE_URL, the first profile
# IRI)). Never change it, or every retried event would get a new id and be stored twice.
STATEMENT_ID_NAMESPACE: Final = uuid.UUID("885125b7-228e-5f4e-b625-4bcbf558915f")

# Where the statements say they come from (``context.platform``): the tool, not the LMS.
PLATFORM: Final = "ltiservice"
# The language of every statement's content (``context.language``, language map keys).
LANGUAGE: Final = "fr-FR"


class Verb:
    """Borrowed verb IRIs (ADL, Activity Streams, Tin Can registry)."""

    LAUNCHED: Final = "http://adlnet.gov/expapi/verbs/launched"
    SUBMITTED: Final = "http://activitystrea.ms/submit"
    SCORED: Final = "http://adlnet.gov/expapi/verbs/scored"
    PASSED: Final = "http://adlnet.gov/expapi/verbs/passed"
    FAILED: Final = "http://adlnet.gov/expapi/verbs/failed"
    EARNED: Final = "http://id.tincanapi.com/verb/earned"
    VOIDED: Final = "http://adlnet.gov/expapi/verbs/voided"


class OurVerb:
    """Verbs defined by our profile (names under ``<base>/verbs/``).

    ``achieved``: TLA's ``https://w3id.org/xapi/tla/verbs/achieved`` is defined in no published
    profile, so the capitalisation of a block is our own verb, defined in our profile.
    """

    ACHIEVED: Final = "achieved"


class ActivityType:
    """Borrowed activity type IRIs (ADL)."""

    ASSESSMENT: Final = "http://adlnet.gov/expapi/activities/assessment"
    COURSE: Final = "http://adlnet.gov/expapi/activities/course"
    # Type of the profile version activity put in contextActivities.category (xAPI Profiles).
    PROFILE: Final = "http://adlnet.gov/expapi/activities/profile"


class OurActivityType:
    """Activity types of our profile (names under ``<base>/activity-types/``)."""

    CERTIFICATION: Final = "certification"
    BLOCK: Final = "block"
    COMPETENCY: Final = "competency"
    CASE: Final = "case"


class Extension:
    """Extensions of our profile (names under ``<base>/extensions/``)."""

    # Context extensions.
    CERTIFICATION_CODE: Final = "certification-code"
    BLOCK_CODE: Final = "block-code"
    RNCP_CODE: Final = "rncp-code"
    RNCP_BLOCK_CODE: Final = "rncp-block-code"
    REFERENTIAL_VERSION: Final = "referential-version"
    JURY_ROLE: Final = "jury-role"
    ATTEMPT: Final = "attempt"
    # Result extensions.
    COMPETENCY_RESULTS: Final = "competency-results"
    CRITERION_VERDICTS: Final = "criterion-verdicts"
    # Activity extensions (in the activity definitions the service serves at each IRI).
    VERSION_IRIS: Final = "version-iris"
    COUNTS_AS: Final = "counts-as"


CONTEXT_EXTENSIONS: Final = frozenset(
    {
        Extension.CERTIFICATION_CODE,
        Extension.BLOCK_CODE,
        Extension.RNCP_CODE,
        Extension.RNCP_BLOCK_CODE,
        Extension.REFERENTIAL_VERSION,
        Extension.JURY_ROLE,
        Extension.ATTEMPT,
    }
)
RESULT_EXTENSIONS: Final = frozenset({Extension.COMPETENCY_RESULTS, Extension.CRITERION_VERDICTS})
ACTIVITY_EXTENSIONS: Final = frozenset({Extension.VERSION_IRIS, Extension.COUNTS_AS})

CRITERION_VERDICTS: Final = frozenset({"met", "not_met", "not_observed"})
COMPETENCY_RESULTS: Final = frozenset({"acquired", "not_acquired"})


@dataclass(frozen=True)
class Vocabulary:
    """Our IRIs under one base, e.g. ``https://lti.example.org/xapi`` (no trailing slash)."""

    base: str

    def __post_init__(self) -> None:
        parts = urlsplit(self.base)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"the xAPI IRI base must be an absolute http(s) IRI: {self.base!r}")
        if self.base.endswith("/") or parts.query or parts.fragment:
            raise ValueError("the xAPI IRI base ends with its path, no '/', '?' or '#'")

    @property
    def profile(self) -> str:
        """The profile's IRI (served as JSON-LD, or as a page to browsers)."""
        return f"{self.base}/profile"

    @property
    def profile_version(self) -> str:
        """The version IRI statements put in ``contextActivities.category``."""
        return f"{self.profile}/{PROFILE_VERSION_NUMBER}"

    def verb(self, name: str) -> str:
        return f"{self.base}/verbs/{name}"

    @property
    def achieved(self) -> str:
        return self.verb(OurVerb.ACHIEVED)

    def activity_type(self, name: str) -> str:
        return f"{self.base}/activity-types/{name}"

    def extension(self, name: str) -> str:
        return f"{self.base}/extensions/{name}"

    def template(self, kind: str) -> str:
        return f"{self.profile}/templates/{kind}/2"

    # Activities we mint. Version-independent: keyed by the plugin's certification code and
    # the block / competency code, so a query spans a referential renewal.
    def certification(self, code: str) -> str:
        return f"{self.base}/certifications/{quote(code)}"

    def block(self, certification_code: str, block_code: str) -> str:
        return f"{self.certification(certification_code)}/blocks/{quote(block_code)}"

    def competency(self, certification_code: str, competency_code: str) -> str:
        return f"{self.certification(certification_code)}/competencies/{quote(competency_code)}"

    def case(self, certification_code: str, case_id: str) -> str:
        return f"{self.certification(certification_code)}/cases/{quote(case_id)}"

    def versioned_block(self, certification_code: str, version: str, block_code: str) -> str:
        """The per-version block IRI of profile 1.0 (kept only to relate it to the new one)."""
        return (
            f"{self.certification(certification_code)}/{quote(version)}/blocks/{quote(block_code)}"
        )

    def versioned_competency(self, certification_code: str, version: str, code: str) -> str:
        """The per-version competency IRI of profile 1.0 (related in activity definitions)."""
        return (
            f"{self.certification(certification_code)}/{quote(version)}/competencies/{quote(code)}"
        )

    def assessment(self, resource_id: str) -> str:
        return f"{self.base}/assessments/{quote(resource_id)}"

    def course(self, course_id: str) -> str:
        return f"{self.base}/courses/{quote(course_id)}"

    def ours(self) -> dict[str, str]:
        """Every IRI of our vocabulary (profile, verbs, types, extensions) by name."""
        found = {"profile": self.profile, "profile_version": self.profile_version}
        found["verb:achieved"] = self.achieved
        for name, value in vars(OurActivityType).items():
            if name.isupper():
                found[f"type:{value}"] = self.activity_type(value)
        for name, value in vars(Extension).items():
            if name.isupper():
                found[f"extension:{value}"] = self.extension(value)
        return found


# Profile 1.0 minted everything under this base, a domain the project does not own; the
# activity definitions relate those IRIs to the current ones.
LEGACY_BASE: Final = "https://ltiservice.fr/xapi"


def rncp_iri(rncp_code: str) -> str:
    """Return France Compétences' public page for an RNCP code, e.g. ``RNCP36140``."""
    digits = rncp_code.upper().removeprefix("RNCP")
    if not digits.isdigit():
        raise ValueError(f"not an RNCP code: {rncp_code!r}")
    return f"https://www.francecompetences.fr/recherche/rncp/{digits}/"
