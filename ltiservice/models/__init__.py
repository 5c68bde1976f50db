"""Tables of the service. Import from here: Alembic reads `Base.metadata` after this import."""

from ltiservice.db import Base
from ltiservice.models.ltistore import LtiStoreEntry
from ltiservice.models.tenancy import Course, Deployment, Organisation, Person, Platform

__all__ = ["Base", "Course", "Deployment", "LtiStoreEntry", "Organisation", "Person", "Platform"]
