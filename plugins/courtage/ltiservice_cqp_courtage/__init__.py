"""Plugin ltiservice for the CQP Chargé de clientèle en courtage d'assurances (RNCP31395).

The fiche says nothing about how the three evaluation sources (training organisation, company
referent, evaluation commission) are weighed against each other, so the core's default rules
apply unchanged: a competency is acquired when every criterion is met, a block when every
competency is, and the certification follows the combination of the referential (BC1-BC5 and
two of BC6-BC8).
"""

from __future__ import annotations

from ltiservice.grading.interface import CertificationPlugin

__all__ = ["REFERENTIAL_FILES", "plugin"]

#: One file per referential version; the fiche RNCP31395 is the only one transcribed.
REFERENTIAL_FILES = ("referential_rncp31395.yaml",)

plugin = CertificationPlugin(package=__name__, referentials=REFERENTIAL_FILES)
