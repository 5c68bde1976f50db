"""Plugin ltiservice for the CQP Chargé d'accueil et de relation clients-adhérents (RNCP39866).

Branche Mutualité (ANEM / CPNEFP Mutualité): four blocks RNCP39866BC01 to BC04, each acquired at
100 % of its competencies; the certification needs the four blocks and the final interview
held by the jury de délivrance.
"""

from __future__ import annotations

from ltiservice.grading.interface import CertificationPlugin
from ltiservice_cqp_mutualite.rules import MutualiteRules

__all__ = ["REFERENTIAL_FILES", "MutualiteRules", "plugin"]

#: One file per referential version; the fiche RNCP39866 is the only one transcribed.
REFERENTIAL_FILES = ("referential_rncp39866.yaml",)

plugin = CertificationPlugin(
    package=__name__, referentials=REFERENTIAL_FILES, rules=MutualiteRules()
)
