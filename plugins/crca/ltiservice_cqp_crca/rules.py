"""Grading rules of the CQP Chargé(e) de relation clientèle assurance (CRCA)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from ltiservice.grading.interface import Block, JuryProblem, Referential, Rules, Seat

__all__ = ["EXCLUSIVE_ROLES", "CrcaRules"]

#: Roles one person may not hold together. The fiche RNCP36140 wants « l'un appartenant à la
#: hiérarchie du candidat, l'autre appartenant à un service distinct » : two people, since
#: nobody belongs both to the candidate's hierarchy and to another service.
EXCLUSIVE_ROLES = ("hierarchy", "other_service")


class CrcaRules(Rules):
    """The core's defaults, plus one jury check the core does not make.

    Verdicts, blocks, the certification (Bloc 1 + one of 2A/2B, or BC01 + BC02 for RNCP36140)
    and the LMS grade are the core's rules over the referential data. The core counts distinct
    evaluators and checks that each required role is held, but lets one evaluator hold both the
    hierarchy seat and the other-service seat as long as a second person sits; the CRCA
    committee needs those two seats held by two different people.
    """

    def jury_problems(
        self, referential: Referential, block: Block, seats: Sequence[Seat]
    ) -> list[JuryProblem]:
        """The core's problems, then any evaluator who holds both exclusive roles."""
        problems = super().jury_problems(referential, block, seats)
        jury = referential.jury
        if not all(role in jury.roles for role in EXCLUSIVE_ROLES):
            return problems
        roles_by_evaluator: dict[str, set[str]] = defaultdict(set)
        for seat in seats:
            roles_by_evaluator[seat.evaluator_id].add(seat.role)
        first, second = EXCLUSIVE_ROLES
        for evaluator, roles in sorted(roles_by_evaluator.items()):
            if {first, second} <= roles:
                problems.append(
                    JuryProblem(
                        "same_person_two_roles",
                        f"L'évaluateur {evaluator} ne peut pas tenir à la fois le rôle "
                        f"« {jury.role_label(first)} » et le rôle « {jury.role_label(second)} » : "
                        "le comité d'évaluation réunit deux personnes distinctes, l'une de la "
                        "hiérarchie du candidat, l'autre d'un autre service.",
                    )
                )
        return problems
