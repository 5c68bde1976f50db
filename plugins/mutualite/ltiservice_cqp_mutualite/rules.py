"""Grading rules of the CQP Chargé d'accueil et de relation clients-adhérents (RNCP39866)."""

from __future__ import annotations

from collections.abc import Mapping

from ltiservice.grading.interface import Block, BlockOutcome, Rules, Verdict


class MutualiteRules(Rules):
    """Rules of the Mutualité CQP: the core's defaults, with the block rule stated explicitly.

    The fiche RNCP39866 says: « Chaque bloc peut être obtenu séparément dès lors que le candidat
    valide 100% des compétences du bloc. Le candidat acquière la certification dans sa totalité
    dès lors qu'il a validé l'ensemble des blocs de compétences composants le CQP. Le jury de
    délivrance effectue un entretien final pour valider et délivrer la certification. »

    The certification part (all four blocks and the final interview, fact
    ``final_interview_passed``) is data in the referential's ``combination`` and uses the core.
    """

    def block_outcome(self, block: Block, verdicts: Mapping[str, Verdict]) -> BlockOutcome:
        """Acquire the block only when 100 % of its competencies are validated.

        A block at 4 competencies out of 5 is not acquired: there is no partial credit inside a
        block, only across blocks (each block is capitalised on its own).
        """
        results = tuple(self.competency_result(c, verdicts) for c in block.competencies)
        # A block without competencies would be "all acquired" vacuously: refuse that too.
        acquired = bool(results) and all(result.acquired for result in results)
        return BlockOutcome(block_code=block.code, acquired=acquired, competencies=results)
