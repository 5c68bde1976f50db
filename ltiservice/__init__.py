"""ltiservice: an LTI 1.3 tool that grades French professional certifications block by block."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application: settings, storage, LTI, views, error pages."""
    from ltiservice.app import build_app

    return build_app(test_config)
