"""Plugin ltiservice for the CQP Chargé de clientèle en courtage d'assurances (RNCP31395).

Each block is evaluated by three épreuves, by three actors (the referential's `epreuves:`: the
training organisation, the company referent, the evaluation commission), each placed and graded
as its own assessment by its own committee. The fiche says nothing about how their results are
weighed against each other, so the core's default rules apply unchanged: a competency is
acquired when every criterion is met, an épreuve's result when every competency is, the block is
proposed acquired when all three épreuves are (a product convention, to be confirmed by the
certifier), and the certification follows the combination of the referential (BC1-BC5 and two
of BC6-BC8).
"""

from __future__ import annotations

from ltiservice.grading.interface import CertificationPlugin

__all__ = ["REFERENTIAL_FILES", "plugin"]

#: One file per referential version; the fiche RNCP31395 is the only one transcribed.
REFERENTIAL_FILES = ("referential_rncp31395.yaml",)

plugin = CertificationPlugin(package=__name__, referentials=REFERENTIAL_FILES)
