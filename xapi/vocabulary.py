"""The xAPI vocabulary ltiservice emits: every IRI as a constant.

Borrowed IRIs (ADL, Activity Streams, TLA, Tin Can registry) are used wherever one fits, so that
any LRS dashboard already knows them; our own IRIs live under ``PROFILE_BASE`` and are defined in
the published profile (``xapi/profile.jsonld``). A test keeps the two in sync: add a constant here
and its concept or template there in the same commit.
"""

from __future__ import annotations

import uuid
from typing import Final

PROFILE_BASE: Final = "https://ltiservice.fr/xapi"
PROFILE: Final = f"{PROFILE_BASE}/profile"
PROFILE_VERSION: Final = f"{PROFILE}/1.0"

# UUIDv5 namespace for statement ids: uuid5(NAMESPACE_URL, PROFILE). Never change it, or every
# retried event would get a new id and be stored twice.
STATEMENT_ID_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, PROFILE)


class Verb:
    """Verb IRIs (all borrowed: ADL, Activity Streams, TLA, Tin Can registry)."""

    LAUNCHED: Final = "http://adlnet.gov/expapi/verbs/launched"
    SUBMITTED: Final = "http://activitystrea.ms/submit"
    SCORED: Final = "http://adlnet.gov/expapi/verbs/scored"
    PASSED: Final = "http://adlnet.gov/expapi/verbs/passed"
    FAILED: Final = "http://adlnet.gov/expapi/verbs/failed"
    ACHIEVED: Final = "https://w3id.org/xapi/tla/verbs/achieved"
    EARNED: Final = "http://id.tincanapi.com/verb/earned"
    VOIDED: Final = "http://adlnet.gov/expapi/verbs/voided"


class ActivityType:
    """Activity type IRIs: ours for the certification structure, ADL's for the rest."""

    CERTIFICATION: Final = f"{PROFILE_BASE}/activity-types/certification"
    BLOCK: Final = f"{PROFILE_BASE}/activity-types/block"
    COMPETENCY: Final = f"{PROFILE_BASE}/activity-types/competency"
    CASE: Final = f"{PROFILE_BASE}/activity-types/case"
    ASSESSMENT: Final = "http://adlnet.gov/expapi/activities/assessment"
    COURSE: Final = "http://adlnet.gov/expapi/activities/course"
    # Type of the profile version activity put in contextActivities.category (xAPI Profiles).
    PROFILE: Final = "http://adlnet.gov/expapi/activities/profile"


class Extension:
    """Extension IRIs (ours). Context extensions unless the name says result."""

    RNCP_CODE: Final = f"{PROFILE_BASE}/extensions/rncp-code"
    RNCP_BLOCK_CODE: Final = f"{PROFILE_BASE}/extensions/rncp-block-code"
    REFERENTIAL_VERSION: Final = f"{PROFILE_BASE}/extensions/referential-version"
    JURY_ROLE: Final = f"{PROFILE_BASE}/extensions/jury-role"
    RESULT_COMPETENCY_RESULTS: Final = f"{PROFILE_BASE}/extensions/competency-results"
    RESULT_CRITERION_VERDICTS: Final = f"{PROFILE_BASE}/extensions/criterion-verdicts"


# IRIs that the TLA and our profile relate: our block and competency types are narrower than the
# TLA competency type (a "bloc de compétences" is a set of competencies assessed together).
TLA_COMPETENCY_TYPE: Final = "https://w3id.org/xapi/tla/activity-types/competency"

CRITERION_VERDICTS: Final = frozenset({"met", "not_met", "not_observed"})
COMPETENCY_RESULTS: Final = frozenset({"acquired", "not_acquired"})


def rncp_iri(rncp_code: str) -> str:
    """Return France Compétences' public page for an RNCP code, e.g. ``RNCP36140``."""
    digits = rncp_code.upper().removeprefix("RNCP")
    if not digits.isdigit():
        raise ValueError(f"not an RNCP code: {rncp_code!r}")
    return f"https://www.francecompetences.fr/recherche/rncp/{digits}/"


def all_iris() -> dict[str, str]:
    """Every IRI constant of this module by qualified name (used to check the profile)."""
    found: dict[str, str] = {
        "PROFILE": PROFILE,
        "PROFILE_VERSION": PROFILE_VERSION,
        "TLA_COMPETENCY_TYPE": TLA_COMPETENCY_TYPE,
    }
    for holder in (Verb, ActivityType, Extension):
        for name, value in vars(holder).items():
            if name.isupper():
                found[f"{holder.__name__}.{name}"] = value
    return found
