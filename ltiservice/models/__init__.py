"""Tables of the service. Import from here: Alembic reads `Base.metadata` after this import."""

from ltiservice.db import Base
from ltiservice.models.assessment import Assessment, Submission, SubmissionFile
from ltiservice.models.credential import IssuedCredential
from ltiservice.models.evaluation import CertificationAward, Decision, Evaluation, LedgerEntry
from ltiservice.models.jury import JuryDecision, JuryMemberRow, JurySession
from ltiservice.models.lrs import LrsDestination
from ltiservice.models.ltistore import LtiStoreEntry
from ltiservice.models.outbox import OutboxMention, OutboxMessage
from ltiservice.models.ratelimit import RateLimitCounter
from ltiservice.models.registration import RegistrationLink
from ltiservice.models.tenancy import Course, Deployment, Organisation, Person, Platform

__all__ = [
    "Assessment",
    "Base",
    "CertificationAward",
    "Course",
    "Decision",
    "Deployment",
    "Evaluation",
    "IssuedCredential",
    "JuryDecision",
    "JuryMemberRow",
    "JurySession",
    "LedgerEntry",
    "LrsDestination",
    "LtiStoreEntry",
    "Organisation",
    "OutboxMention",
    "OutboxMessage",
    "Person",
    "Platform",
    "RateLimitCounter",
    "RegistrationLink",
    "Submission",
    "SubmissionFile",
]
