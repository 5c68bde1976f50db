"""Boot Django just enough for ``lti_consumer`` to run standalone (no database, no URLconf).

Must be imported before anything from ``lti_consumer``: the package's ``__init__`` imports the
XBlock, which needs configured settings and a populated app registry.
"""

from __future__ import annotations

import secrets

import django
from django.conf import settings


def boot(platform_name: str = "ltiservice test platform (Open edX lti-consumer-xblock)") -> None:
    """Configure settings once and populate the app registry."""
    if settings.configured:
        return
    settings.configure(
        PLATFORM_NAME=platform_name,
        SECRET_KEY=secrets.token_hex(32),
        USE_TZ=True,
        # The library keeps launch data between the two OIDC legs in the Django cache.
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "rest_framework",
            "lti_consumer",
        ],
        TEMPLATES=[
            {"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True},
        ],
        # No New Relic here: an empty list keeps edx-django-utils from warning on each trace.
        OPENEDX_TELEMETRY=[],
        LOGGING_CONFIG=None,
    )
    django.setup()


def clear_request_cache() -> None:
    """Forget edx-django-utils' per-request cache (thread-local): call at each request start."""
    from edx_django_utils.cache import RequestCache

    RequestCache.clear_all_namespaces()
