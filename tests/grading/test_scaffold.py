"""Plugin scaffold: a package the core accepts, built from a real fiche, nothing lost."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from ltiservice.grading.loader import validate_plugin_path
from ltiservice.grading.rncp import RncpFiche, find_fiche, split_competencies
from ltiservice.grading.scaffold import ScaffoldError, scaffold_plugin

DATA = Path(__file__).parent / "data"
EXTRACT = DATA / "rncp-export-extract-12-fiches.xml"
FICTIONAL = DATA / "rncp-export-sample-fictional.xml"


@pytest.fixture(scope="module")
def fiche_35809() -> RncpFiche:
    return find_fiche(EXTRACT, "RNCP35809")


def test_scaffold_writes_an_installable_package_layout(
    tmp_path: Path, fiche_35809: RncpFiche
) -> None:
    result = scaffold_plugin(fiche_35809, tmp_path / "finition", code="FINITION")
    root = tmp_path / "finition"
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == [
        "README.md",
        "ltiservice_cqp_finition/__init__.py",
        "ltiservice_cqp_finition/referential-rncp35809.yaml",
        "pyproject.toml",
    ]
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert project["project"]["name"] == "ltiservice-cqp-finition"
    assert project["project"]["dependencies"] == ["ltiservice"]
    assert project["project"]["entry-points"]["ltiservice.plugins"] == {
        "finition": "ltiservice_cqp_finition:plugin"
    }
    assert project["tool"]["setuptools"]["package-data"] == {"ltiservice_cqp_finition": ["*.yaml"]}
    init = (root / "ltiservice_cqp_finition/__init__.py").read_text()
    assert "from ltiservice.grading.interface import CertificationPlugin" in init
    assert 'plugin = CertificationPlugin(__name__, ["referential-rncp35809.yaml"])' in init
    assert result.package == "ltiservice_cqp_finition"
    assert result.referential == root / "ltiservice_cqp_finition/referential-rncp35809.yaml"


def test_generated_plugin_passes_the_core_loader(tmp_path: Path, fiche_35809: RncpFiche) -> None:
    scaffold_plugin(fiche_35809, tmp_path / "finition", code="FINITION")
    (referential,) = validate_plugin_path(tmp_path / "finition")
    cert = referential.certification
    assert (cert.code, cert.rncp_code, cert.version, cert.level) == (
        "FINITION",
        "RNCP35809",
        "RNCP35809",
        5,
    )
    assert cert.title == fiche_35809.intitule
    assert cert.certifiers == fiche_35809.certificateurs
    assert str(cert.registration_end_date) == "2026-08-31"
    assert [b.code for b in referential.blocks] == ["B1", "B2", "B3", "B4"]
    assert [b.rncp_block_code for b in referential.blocks] == [
        f"RNCP35809BC0{i}" for i in range(1, 5)
    ]
    assert referential.combination.required_blocks == ("B1", "B2", "B3", "B4")
    assert referential.combination.choose == ()
    assert referential.jury.min_evaluators == 2
    assert len(referential.jury.roles) == 2


def test_competencies_follow_the_split_with_one_derived_criterion_each(
    tmp_path: Path,
    fiche_35809: RncpFiche,
) -> None:
    scaffold_plugin(fiche_35809, tmp_path / "p", code="FINITION")
    (referential,) = validate_plugin_path(tmp_path / "p")
    for number, (block, bloc) in enumerate(
        zip(referential.blocks, fiche_35809.blocs, strict=True), 1
    ):
        proposal = split_competencies(bloc.liste_competences_raw)
        assert [c.wording for c in block.competencies] == proposal
        assert [c.code for c in block.competencies] == [
            f"C{number}.{k}" for k in range(1, len(proposal) + 1)
        ]
        for competency in block.competencies:
            (criterion,) = competency.criteria
            assert criterion.id == f"{competency.code}-1"
            assert criterion.derived is True
            assert criterion.wording == f"La compétence est démontrée : {competency.wording}"
    assert referential.blocks[0].competencies[0].wording == "Analyser le dossier de l'affaire"


def test_a_placeholder_case_per_block_is_marked_to_write(
    tmp_path: Path, fiche_35809: RncpFiche
) -> None:
    scaffold_plugin(fiche_35809, tmp_path / "p", code="FINITION")
    (referential,) = validate_plugin_path(tmp_path / "p")
    assert [case.block for case in referential.cases] == ["B1", "B2", "B3", "B4"]
    for case in referential.cases:
        assert case.title.startswith("À RÉDIGER")
        assert case.statement.startswith("À RÉDIGER")


def test_raw_competency_text_is_kept_as_comment_above_each_block(
    tmp_path: Path,
    fiche_35809: RncpFiche,
) -> None:
    result = scaffold_plugin(fiche_35809, tmp_path / "p", code="FINITION")
    text = result.referential.read_text()
    chunks = re.split(r"\n  - code: B\d+\n", text)
    assert len(chunks) == 5  # header, then one chunk per block
    for bloc, before in zip(fiche_35809.blocs, chunks[:-1], strict=True):
        comment = "\n".join(
            line.strip()[1:] for line in before.splitlines()[-60:] if line.strip().startswith("#")
        )
        assert f"{bloc.code} : LISTE_COMPETENCES brute" in comment
        assert set(re.findall(r"\w+", bloc.liste_competences_raw)) <= set(
            re.findall(r"\w+", comment)
        )
    assert yaml.safe_load(text)["blocks"][0]["code"] == "B1"


def test_modalities_keep_every_word_of_the_fiche(tmp_path: Path, fiche_35809: RncpFiche) -> None:
    scaffold_plugin(fiche_35809, tmp_path / "p", code="FINITION")
    (referential,) = validate_plugin_path(tmp_path / "p")
    for block, bloc in zip(referential.blocks, fiche_35809.blocs, strict=True):
        joined = " ".join(block.evaluation_modalities)
        assert set(re.findall(r"\w+", bloc.modalites_evaluation)) == set(re.findall(r"\w+", joined))
        assert len(block.evaluation_modalities) > 1


def test_readme_lists_what_to_review(tmp_path: Path, fiche_35809: RncpFiche) -> None:
    scaffold_plugin(fiche_35809, tmp_path / "p", code="FINITION")
    readme = (tmp_path / "p/README.md").read_text()
    for topic in ("Découpage des compétences", "Critères", "Jury", "Combinaison", "Cas pratiques"):
        assert topic in readme
    assert "B2 (RNCP35809BC02)" in readme


def test_default_code_is_the_fiche_number_and_correspondances_are_commented(
    tmp_path: Path,
) -> None:
    fiche = find_fiche(FICTIONAL, "RNCP99999")
    result = scaffold_plugin(fiche, tmp_path / "fictif")
    assert (result.code, result.package) == ("RNCP99999", "ltiservice_cqp_rncp99999")
    text = result.referential.read_text()
    assert "#   RNCP99999BC01 (B1) <-> RNCP99998 : RNCP99998BC01" in text
    (referential,) = validate_plugin_path(tmp_path / "fictif")
    assert referential.equivalences == ()
    assert [c.wording for c in referential.blocks[0].competencies] == [
        "Recueillir les informations…",
        "Identifier le besoin…",
    ]


def test_existing_directory_is_never_overwritten(tmp_path: Path, fiche_35809: RncpFiche) -> None:
    target = tmp_path / "p"
    target.mkdir()
    (target / "mine.txt").write_text("à garder")
    with pytest.raises(ScaffoldError, match="existe déjà"):
        scaffold_plugin(fiche_35809, target, code="FINITION")
    assert [p.name for p in target.iterdir()] == ["mine.txt"]
    assert (target / "mine.txt").read_text() == "à garder"


def test_empty_existing_directory_is_refused_too(tmp_path: Path, fiche_35809: RncpFiche) -> None:
    (tmp_path / "p").mkdir()
    with pytest.raises(ScaffoldError, match="existe déjà"):
        scaffold_plugin(fiche_35809, tmp_path / "p")
    assert list((tmp_path / "p").iterdir()) == []


def test_invalid_code_is_refused_before_writing(tmp_path: Path, fiche_35809: RncpFiche) -> None:
    with pytest.raises(ScaffoldError, match="invalide"):
        scaffold_plugin(fiche_35809, tmp_path / "p", code="pas bon!")
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize(
    "numero", ["RNCP34762", "RNCP35625", "RNCP40344", "RNCP36490", "RNCP35959", "RNCP39568"]
)
def test_every_real_fiche_scaffolds_into_a_valid_plugin(tmp_path: Path, numero: str) -> None:
    fiche = find_fiche(EXTRACT, numero)
    scaffold_plugin(fiche, tmp_path / numero.lower())
    (referential,) = validate_plugin_path(tmp_path / numero.lower())
    assert len(referential.blocks) == len(fiche.blocs)
