"""Plugin ltiservice for the CQP Chargé(e) de relation clientèle assurance (CRCA).

Certifier: CPNFPE des sociétés d'assurances (FFA). Two referential versions: RNCP36140 (blocks
BC01 + BC02, registration ended 26-01-2025) and its successor RNCP41351, the current referential
(Bloc 1 + one option among Bloc 2A souscription and Bloc 2B indemnisation). Blocks acquired
under RNCP36140 carry over through the equivalence table of the current file.
"""

from __future__ import annotations

from ltiservice.grading.interface import CertificationPlugin
from ltiservice_cqp_crca.rules import CrcaRules

__all__ = ["REFERENTIAL_FILES", "CrcaRules", "plugin"]

#: One file per referential version, oldest first.
REFERENTIAL_FILES = ("referential-rncp36140.yaml", "referential-rncp41351.yaml")

plugin = CertificationPlugin(__name__, REFERENTIAL_FILES, rules=CrcaRules())
