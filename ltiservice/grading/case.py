"""A referential as a 1EdTech CASE v1.1 package (CFPackage): document, items, associations.

Mapping (docs/xapi.md § CASE): one CFDocument per referential version; its blocks, their
competencies and the competencies' evaluation criteria are CFItems whose
``humanCodingScheme`` is the official code (``RNCP36140BC01`` where the referential gives the
RNCP block code, else the referential's code) and whose ``fullStatement`` is the French
wording; each item ``isChildOf`` its parent (a block, of the document). Cross-version
associations (``exactMatchOf``/``isRelatedTo``) are emitted only for equivalences the
referential marks official; none of the shipped tables is official (see the plugins' notes),
so none is published.

Identifiers are UUIDv5 of the certification code, version and item code under a fixed
namespace, so a package is the same whatever the host serving it; only ``uri`` fields carry
the host (``<base_url>/ims/case/v1p1/…``, the REST binding's paths). ``build_case_package`` is
pure; ``load_case_packages`` reads the installed plugins' files for their modification time.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from ltiservice.grading.interface import CertificationPlugin
from ltiservice.grading.referential import Referential

CASE_PREFIX = "/ims/case/v1p1"
# Never change it: CASE consumers key everything by these identifiers.
CASE_NAMESPACE = uuid.UUID("0b9c4f2e-6a55-5c1d-9d6e-5e0c8f3a1b27")

ITEM_TYPES = {
    "block": "Bloc de compétences",
    "competency": "Compétence",
    "criterion": "Critère d'évaluation",
}


def case_identifier(certification_code: str, version: str, kind: str, code: str = "") -> str:
    """The stable UUID of a document (kind ``document``), item or association."""
    return str(uuid.uuid5(CASE_NAMESPACE, "\x1f".join((certification_code, version, kind, code))))


@dataclass(frozen=True)
class CasePackage:
    """One referential version as CASE: the CFPackage and an index of its parts by id."""

    package: dict[str, Any]

    @property
    def identifier(self) -> str:
        return str(self.package["CFDocument"]["identifier"])

    def document(self) -> dict[str, Any]:
        return dict(self.package["CFDocument"])

    def items(self) -> dict[str, dict[str, Any]]:
        return {item["identifier"]: item for item in self.package["CFItems"]}

    def associations(self) -> dict[str, dict[str, Any]]:
        return {a["identifier"]: a for a in self.package["CFAssociations"]}

    def document_link(self) -> dict[str, str]:
        """The LinkURI to the document that REST responses of single items carry."""
        document = self.package["CFDocument"]
        return {
            "title": document["title"],
            "identifier": document["identifier"],
            "uri": document["uri"],
        }


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def build_case_package(
    referential: Referential, base_url: str, last_change: datetime, current: bool
) -> CasePackage:
    """The CFPackage of one referential version.

    ``last_change`` is the referential file's last modification (every record's
    ``lastChangeDateTime``); ``current`` says whether this version is the one in force
    (``adoptionStatus`` Adopted, else Deprecated).
    """
    cert = referential.certification
    code, version = cert.code, referential.version
    root = base_url.rstrip("/") + CASE_PREFIX
    changed = _timestamp(last_change)

    def uri(kind: str, identifier: str) -> str:
        return f"{root}/{kind}/{identifier}"

    document_id = case_identifier(code, version, "document")
    document: dict[str, Any] = {
        "identifier": document_id,
        "uri": uri("CFDocuments", document_id),
        "frameworkType": "Certification professionnelle (RNCP)",
        "caseVersion": "1.1",
        "creator": " ; ".join(cert.certifiers) or code,
        "title": cert.title,
        "lastChangeDateTime": changed,
        "publisher": " ; ".join(cert.certifiers) or code,
        "description": f"Référentiel de la certification {code}, version {version}.",
        "language": "fr",
        "version": version,
        "adoptionStatus": "Adopted" if current else "Deprecated",
    }
    if cert.rncp_code:
        digits = cert.rncp_code.upper().removeprefix("RNCP")
        document["officialSourceURL"] = f"https://www.francecompetences.fr/recherche/rncp/{digits}/"
    if cert.registration_end_date is not None:
        document["statusEndDate"] = cert.registration_end_date.isoformat()
    if cert.source:
        document["notes"] = f"Source : {cert.source}"

    items: list[dict[str, Any]] = []
    associations: list[dict[str, Any]] = []
    document_node = {"title": cert.title, "identifier": document_id, "uri": document["uri"]}

    def add_item(
        kind: str, item_code: str, human_code: str, statement: str, **extra: Any
    ) -> dict[str, str]:
        identifier = case_identifier(code, version, kind, item_code)
        item: dict[str, Any] = {
            "identifier": identifier,
            "fullStatement": statement,
            "CFItemType": ITEM_TYPES[kind],
            "uri": uri("CFItems", identifier),
            "humanCodingScheme": human_code,
            "language": "fr",
            "lastChangeDateTime": changed,
            **extra,
        }
        items.append(item)
        return {"title": human_code, "identifier": identifier, "uri": item["uri"]}

    def child_of(child: dict[str, str], parent: dict[str, str], sequence: int) -> None:
        identifier = case_identifier(code, version, "isChildOf", child["identifier"])
        associations.append(
            {
                "identifier": identifier,
                "associationType": "isChildOf",
                "sequenceNumber": sequence,
                "uri": uri("CFAssociations", identifier),
                "originNodeURI": child,
                "destinationNodeURI": parent,
                "lastChangeDateTime": changed,
            }
        )

    for block_number, block in enumerate(referential.blocks, start=1):
        extra: dict[str, Any] = {"abbreviatedStatement": block.code}
        notes = [f"{name} : {value}" for name, value in block.other_codes.items()]
        if block.option_group:
            notes.append(f"Bloc au choix (groupe « {block.option_group} »)")
        if notes:
            extra["notes"] = " ; ".join(notes)
        block_node = add_item(
            "block",
            block.code,
            block.rncp_block_code or block.code,
            block.title or block.code,
            **extra,
        )
        child_of(block_node, document_node, block_number)
        for competency_number, competency in enumerate(block.competencies, start=1):
            competency_node = add_item(
                "competency", competency.code, competency.code, competency.wording
            )
            child_of(competency_node, block_node, competency_number)
            for criterion_number, criterion in enumerate(competency.criteria, start=1):
                derived = (
                    {"notes": "Critère reprenant la compétence (la source n'en donne pas)"}
                    if criterion.derived
                    else {}
                )
                criterion_node = add_item(
                    "criterion", criterion.id, criterion.id, criterion.wording, **derived
                )
                child_of(criterion_node, competency_node, criterion_number)
    return CasePackage({"CFDocument": document, "CFItems": items, "CFAssociations": associations})


def referential_last_change(plugin: CertificationPlugin) -> datetime:
    """The latest modification of the plugin's referential files as installed (UTC)."""
    moments = []
    for file in plugin.files:
        resource = resources.files(plugin.package).joinpath(file)
        with resources.as_file(resource) as path:
            moments.append(datetime.fromtimestamp(os.stat(path).st_mtime, UTC))
    return max(moments)


def load_case_packages(
    plugins: Mapping[str, CertificationPlugin], base_url: str
) -> dict[str, CasePackage]:
    """Every referential version of the installed plugins as CASE, by package identifier."""
    packages: dict[str, CasePackage] = {}
    for _, plugin in sorted(plugins.items()):
        changed = referential_last_change(plugin)
        for _, referential in sorted(plugin.referentials.items()):
            package = build_case_package(
                referential, base_url, changed, referential is plugin.current
            )
            packages[package.identifier] = package
    return packages
