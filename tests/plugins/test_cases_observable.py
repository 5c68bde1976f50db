"""Every shipped case can be passed: each criterion of its block has something to observe.

A case that gives nothing to observe for a criterion makes its block impossible to acquire
(a criterion not observed counts as not met). Each case says, criterion by criterion, what in
it lets the evaluator observe the criterion, and says that it is an example written for the
product, not an official subject.
"""

from __future__ import annotations

import pytest

from ltiservice.grading.interface import Case, Referential
from ltiservice.grading.loader import load_plugins

CASES = [
    (referential, case)
    for plugin in load_plugins().values()
    for referential in plugin.referentials.values()
    for case in referential.cases
]


@pytest.mark.parametrize(("referential", "case"), CASES, ids=[case.id for _, case in CASES])
def test_every_criterion_of_the_block_is_observable_in_the_case(
    referential: Referential, case: Case
) -> None:
    criteria = [criterion.id for criterion in referential.block(case.block).criteria()]

    missing = [criterion for criterion in criteria if not case.observes.get(criterion, "").strip()]

    assert missing == []
    assert set(case.observes) == set(criteria)


@pytest.mark.parametrize(("referential", "case"), CASES, ids=[case.id for _, case in CASES])
def test_every_shipped_case_is_marked_as_an_example(referential: Referential, case: Case) -> None:
    assert case.example is True


def test_the_gaps_found_by_the_audit_are_filled() -> None:
    """B1 quality and non-conformity, B2A avenant and relance, RNCP36140 BC02 quality feedback."""
    crca = load_plugins()["CRCA"]
    b1, b2a, _ = crca.current.cases
    assert "questionnaire de satisfaction" in b1.statement
    assert "non-conformités" in b1.statement
    assert "avenant" in " ".join(b2a.deliverables).lower()
    assert "Relances" in " ".join(b2a.deliverables)
    bc02 = crca.referential("RNCP36140").cases_for("BC02")[0]
    assert any("remontée qualité" in item for item in bc02.deliverables)
