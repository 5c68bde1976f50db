"""Every statement we build passes an independent validator (Learning Locker's)."""

from __future__ import annotations

import copy

import pytest

from tests.peers.xapi_validator import XapiValidator
from tests.xapi.samples import all_statements

pytestmark = pytest.mark.peer


def test_every_builder_output_is_valid(xapi_validator: XapiValidator) -> None:
    statements = all_statements()
    report = xapi_validator.validate(list(statements.values()))
    assert dict(zip(statements, report, strict=True)) == {kind: [] for kind in statements}


def test_the_validator_catches_what_we_must_never_send(
    xapi_validator: XapiValidator,
) -> None:
    bad = copy.deepcopy(all_statements()["block-passed"])
    bad["result"]["score"].update(scaled=1.5, raw=120)
    bad["context"]["contextActivities"]["parent"] = bad["context"]["contextActivities"]["parent"][0]
    bad["timestamp"] = "2025-03-14T08:30:00"
    bad["actor"]["mbox"] = "mailto:learner@example.org"

    (warnings,) = xapi_validator.validate([bad])
    found = {(w["path"], w["name"]) for w in warnings}
    assert found == {
        ("statement.actor", "IfiCountWarning"),
        ("statement.result.score", "RawMoreThanMaxWarning"),
        ("statement.result.score.scaled", "TypeWarning"),
        ("statement.context.contextActivities.parent", "TypeWarning"),
        ("statement.timestamp", "TypeWarning"),
    }
