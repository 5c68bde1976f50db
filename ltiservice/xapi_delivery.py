"""Delivers queued xAPI statements to the organisation's learning record stores."""

from __future__ import annotations

from flask import Flask

from ltiservice.outbox import Deliverer


def xapi_deliverers(app: Flask) -> dict[str, Deliverer]:
    """No LRS delivery is configured yet in this build: statements stay queued."""
    return {}
