"""The cohort in the database and a runner for `ltiservice export …` on the test app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result
from flask import Flask

from ltiservice import db
from ltiservice.exports.cli import export_cli
from tests.exports.factories import build_cohort


@pytest.fixture
def cohort(app: Flask) -> dict[str, Any]:
    """The scenario of `build_cohort`, committed; values are ids (decisions as rows)."""
    with app.app_context():
        ids = build_cohort(db.session())
        db.session().commit()
    return ids


@pytest.fixture
def export(app: Flask) -> Callable[..., Result]:
    """Run `ltiservice export <args>` in the test app, the way the real CLI would."""
    runner = app.test_cli_runner()

    def run(*args: str) -> Result:
        return runner.invoke(export_cli, list(args), catch_exceptions=False)

    return run
