"""Write a new certification plugin package from an RNCP fiche, for a person to finish.

The generated package installs like the shipped ones (``pip install -e <dir>``): a
``pyproject.toml`` with an entry point in ``ltiservice.plugins``, the package and its referential
YAML (docs/referential-format.md). What the fiche cannot give (criteria, jury roles, options,
practical cases) gets a safe default marked ``À RÉDIGER`` or ``À RELIRE``; the raw competency text
of each block is kept as a YAML comment above it so the proposed split can be checked against it.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from ltiservice.grading.rncp import RncpBloc, RncpFiche, split_competencies
from ltiservice.grading.schema import ReferentialError, parse_referential

TO_WRITE = "À RÉDIGER"
TO_REVIEW = "À RELIRE"
_CODE = re.compile(r"^[A-Z0-9_-]+$")
_LINE_BREAK = re.compile(r"\r\n|\r|\n|\t| {2,}")
_COMMENT_WIDTH = 96


class ScaffoldError(Exception):
    """The plugin cannot be written: bad code, existing directory, or an invalid result."""


@dataclass(frozen=True)
class ScaffoldResult:
    """Where the new plugin was written and what it is called."""

    root: Path
    code: str
    distribution: str
    package: str
    referential: Path
    files: tuple[Path, ...]
    block_count: int
    competency_count: int


def plugin_names(code: str) -> tuple[str, str, str]:
    """(distribution, package, entry-point name) for a certification code, e.g. ``CRCA``."""
    if not _CODE.match(code):
        raise ScaffoldError(f"Code de certification « {code} » invalide : attendu [A-Z0-9_-]+.")
    slug = re.sub(r"[^a-z0-9]+", "_", code.lower()).strip("_")
    return f"ltiservice-cqp-{slug.replace('_', '-')}", f"ltiservice_cqp_{slug}", slug


def scaffold_plugin(
    fiche: RncpFiche, target_dir: str | os.PathLike[str], code: str | None = None
) -> ScaffoldResult:
    """Write a plugin package for ``fiche`` in ``target_dir`` (which must not exist yet).

    ``code`` is the plugin-wide certification code (default: the fiche number, e.g. RNCP41351).
    The referential is checked by the core schema before anything is written; a failure while
    writing removes the directory this call created.
    """
    target = Path(target_dir)
    code = (code or fiche.numero).strip().upper()
    distribution, package, entry_point = plugin_names(code)
    if target.exists():
        raise ScaffoldError(f"{target} existe déjà : choisissez un autre dossier (rien écrit).")
    referential_name = f"referential-{fiche.numero.lower()}.yaml"
    referential_text = build_referential_yaml(fiche, code)
    try:
        checked = parse_referential(referential_text)
    except ReferentialError as exc:  # a bug of this module, not of the fiche
        raise ScaffoldError(f"Référentiel généré invalide :\n{exc}") from exc
    files = {
        "pyproject.toml": build_pyproject(fiche, distribution, package, entry_point),
        "README.md": build_readme(fiche, code, distribution, package, referential_name),
        f"{package}/__init__.py": build_init(fiche, referential_name),
        f"{package}/{referential_name}": referential_text,
    }
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.mkdir()  # exclusive: never writes into a directory that already exists
    except FileExistsError as exc:
        raise ScaffoldError(
            f"{target} existe déjà : choisissez un autre dossier (rien écrit)."
        ) from exc
    except OSError as exc:
        raise ScaffoldError(f"Impossible de créer {target} : {exc}") from exc
    try:
        for relative, text in files.items():
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        shutil.rmtree(target, ignore_errors=True)  # ours: created just above
        raise ScaffoldError(f"Impossible d'écrire le plugin dans {target} : {exc}") from exc
    return ScaffoldResult(
        root=target,
        code=code,
        distribution=distribution,
        package=package,
        referential=target / package / referential_name,
        files=tuple(target / relative for relative in files),
        block_count=len(checked.blocks),
        competency_count=sum(len(block.competencies) for block in checked.blocks),
    )


def build_pyproject(fiche: RncpFiche, distribution: str, package: str, entry_point: str) -> str:
    """The plugin's ``pyproject.toml`` (setuptools, entry point, YAML as package data)."""
    description = _toml_string(f"ltiservice plugin: {fiche.intitule} ({fiche.numero})")
    return f"""[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "{distribution}"
version = "0.1.0"
description = {description}
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["ltiservice"]

[project.entry-points."ltiservice.plugins"]
{entry_point} = "{package}:plugin"

[tool.setuptools]
packages = ["{package}"]

[tool.setuptools.package-data]
{package} = ["*.yaml"]
"""


def build_init(fiche: RncpFiche, referential_name: str) -> str:
    """The package ``__init__``: the plugin object, default rules."""
    title = fiche.intitule.replace('"""', "'''")
    return f'''"""ltiservice plugin: {title} ({fiche.numero}).

Generated from the RNCP export; the core's default rules apply. Subclass
`ltiservice.grading.interface.Rules` here if the certifier's rules differ.
"""

from __future__ import annotations

from ltiservice.grading.interface import CertificationPlugin

plugin = CertificationPlugin(__name__, ["{referential_name}"])
'''


def build_referential_yaml(fiche: RncpFiche, code: str) -> str:
    """The referential file: data from the fiche, defaults marked for review, raw text kept."""
    codes = [f"B{index}" for index in range(1, len(fiche.blocs) + 1)]
    sections = [
        f"# Référentiel généré depuis la fiche {fiche.numero} de l'export RNCP le "
        f"{date.today().isoformat()}.\n# {TO_REVIEW} avant usage : voir README.md. Les listes "
        "de compétences brutes de la fiche\n# sont gardées en commentaire au-dessus de chaque "
        "bloc.\n",
        _dump({"certification": _certification(fiche, code)}),
        "blocks:\n",
        *(_block_yaml(bloc, block_code, n) for n, (bloc, block_code) in _numbered(fiche, codes)),
        f"# {TO_REVIEW} : jury par défaut (2 évaluateurs, rôles génériques) ; "
        "reprendre la composition de la fiche.\n",
        _dump({"jury": _jury()}),
        f"# {TO_REVIEW} : tous les blocs sont requis ; déclarer ici les blocs optionnels "
        "(choose) s'il y en a.\n",
        _dump({"combination": {"required_blocks": codes, "choose": [], "final_interview": False}}),
        _dump({"grade": {"score_maximum": 100}}),
        _dump({"equivalences": []}),
        _correspondance_comment(
            fiche, dict(zip((b.code for b in fiche.blocs), codes, strict=True))
        ),
        _dump({"cases": [_case(code, b, c) for b, c in zip(fiche.blocs, codes, strict=True)]}),
    ]
    return "".join(section for section in sections if section)


def _numbered(fiche: RncpFiche, codes: list[str]) -> list[tuple[int, tuple[RncpBloc, str]]]:
    return list(enumerate(zip(fiche.blocs, codes, strict=True), start=1))


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _certification(fiche: RncpFiche, code: str) -> dict[str, Any]:
    # Written only when the fiche gives it, so fiches without one scaffold as before.
    last_delivery = (
        {"last_delivery_date": fiche.date_limite_delivrance} if fiche.date_limite_delivrance else {}
    )
    return {
        "code": code,
        "rncp_code": fiche.numero or None,
        "title": fiche.intitule or f"{TO_WRITE} : intitulé absent de la fiche",
        "certifiers": list(fiche.certificateurs) or [f"{TO_WRITE} : certificateur"],
        "level": fiche.niveau if fiche.niveau and 1 <= fiche.niveau <= 8 else None,
        "registration_end_date": fiche.date_fin_enregistrement,
        **last_delivery,
        "version": fiche.numero,
        "supersedes": None,
        "source": f"Export RNCP de France compétences (flux v4.1), fiche {fiche.numero}",
    }


def _block_yaml(bloc: RncpBloc, block_code: str, number: int) -> str:
    competencies = [
        {
            "code": f"C{number}.{k}",
            "wording": wording,
            "criteria": [
                {
                    "id": f"C{number}.{k}-1",
                    "wording": f"La compétence est démontrée : {wording}",
                    "derived": True,
                }
            ],
        }
        for k, wording in enumerate(_competency_wordings(bloc), start=1)
    ]
    # One item per source line (the export flattens line breaks to runs of spaces), text as is.
    modalities = [m.strip() for m in _LINE_BREAK.split(bloc.modalites_evaluation) if m.strip()]
    block: dict[str, Any] = {
        "code": block_code,
        "rncp_block_code": bloc.code or None,
        "other_codes": {},
        "title": bloc.libelle or f"{TO_WRITE} : intitulé du bloc absent de la fiche",
        "option_group": None,
        "evaluation_modalities": modalities,
        "competencies": competencies,
    }
    return _raw_comment(bloc) + textwrap.indent(_dump([block]), "  ")


def _competency_wordings(bloc: RncpBloc) -> list[str]:
    wordings = split_competencies(bloc.liste_competences_raw)
    return wordings or [f"{TO_WRITE} : la fiche ne liste aucune compétence pour ce bloc"]


def _raw_comment(bloc: RncpBloc) -> str:
    """The block's LISTE_COMPETENCES as the fiche gives it, one source line per comment line."""
    lines = [f"# {TO_REVIEW} — {bloc.code or 'bloc'} : LISTE_COMPETENCES brute de la fiche :"]
    for source_line in _LINE_BREAK.split(bloc.liste_competences_raw):
        if source_line.strip():
            lines.extend(
                textwrap.wrap(
                    source_line.strip(),
                    width=_COMMENT_WIDTH,
                    initial_indent="#   ",
                    subsequent_indent="#     ",
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
    if len(lines) == 1:
        lines.append("#   (vide)")
    return textwrap.indent("\n".join(lines) + "\n", "  ")


def _jury() -> dict[str, Any]:
    return {
        "min_evaluators": 2,
        "roles": {
            "evaluator": "Évaluateur ou évaluatrice (rôle à préciser)",
            "professional": "Professionnel(le) du métier (rôle à préciser)",
        },
        "required_roles": [],
        "exclusions": [],
        "min_sessions": None,
        "distinct_session_dates": False,
        "decisions": [],
    }


def _correspondance_comment(fiche: RncpFiche, codes: dict[str, str]) -> str:
    """The fiche's CORRESPONDANCES as commented equivalence candidates, never active data."""
    if not fiche.correspondances:
        return ""
    lines = [
        f"# {TO_REVIEW} : correspondances déclarées par la fiche. Si l'autre fiche est une",
        "# version antérieure de ce plugin, en faire des équivalences (from_version, from_block,",
        "# to_blocks, source : document et citation ; voir equivalences_from_correspondances).",
    ]
    for corr in fiche.correspondances:
        ours = ", ".join(f"{c} ({codes.get(c, '?')})" for c in corr.source_blocks) or "fiche"
        theirs = ", ".join(corr.destination_blocks) or "fiche entière"
        lines.append(f"#   {ours} <-> {corr.destination_fiche or '?'} : {theirs}")
    return "\n".join(lines) + "\n"


def _case(code: str, bloc: RncpBloc, block_code: str) -> dict[str, Any]:
    return {
        "id": f"{code.lower()}-{block_code.lower()}-a-rediger",
        "block": block_code,
        "title": f"{TO_WRITE} : cas pratique du bloc {block_code} ({bloc.libelle or bloc.code})",
        "statement": (
            f"{TO_WRITE} : énoncé du cas pratique (mise en situation, documents fournis, "
            "consignes) que lira l'apprenant.\n"
        ),
        "deliverables": [f"{TO_WRITE} : livrables attendus"],
        "duration_minutes": None,
    }


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def build_readme(
    fiche: RncpFiche, code: str, distribution: str, package: str, referential_name: str
) -> str:
    """The plugin README: what was generated and the checklist of what a person must review."""
    blocks = "\n".join(
        f"  - B{n} ({bloc.code or 'sans code'}) — {bloc.libelle or 'sans intitulé'} : "
        f"{len(_competency_wordings(bloc))} compétence(s) proposée(s)"
        for n, bloc in enumerate(fiche.blocs, start=1)
    )
    return f"""# {distribution} — {fiche.intitule} ({fiche.numero})

Plugin ltiservice généré depuis l'export RNCP de France compétences (fiche {fiche.numero}).
Code de certification : `{code}` ; paquet `{package}` ; référentiel `{package}/{referential_name}`.

Vérification sans installer : `ltiservice plugins validate .` ; installation :
`pip install -e .` depuis ce dossier.

## À relire avant usage
1. **Découpage des compétences** : la fiche donne une liste en texte libre ; le découpage proposé
   est à comparer au texte brut, gardé en commentaire au-dessus de chaque bloc du YAML.
{blocks}
2. **Critères d'évaluation** : chaque compétence a un seul critère `derived: true` qui reprend son
   libellé. Les remplacer par les critères du référentiel du certificateur quand il en donne.
3. **Modalités d'évaluation** : texte brut de la fiche, un élément par ligne de la fiche ;
   regrouper ou découper pour avoir une modalité par élément.
4. **Jury** : 2 évaluateurs aux rôles génériques, sans rôle requis ni exclusion ; reprendre la
   composition réelle (rôles, qui ne peut pas siéger, nombre de séances).
5. **Combinaison** : tous les blocs sont requis ; déclarer les blocs optionnels (`option_group`,
   `choose`) et l'entretien final s'il y en a.
6. **Cas pratiques** : un cas par bloc marqué `{TO_WRITE}` : écrire l'énoncé, les livrables et la
   durée.
7. **Équivalences** : si une version antérieure de la certification existe, ajouter son fichier
   et la table d'équivalences (les correspondances de la fiche sont en commentaire).
8. **Code** `{code}` : unique parmi les plugins installés ; le changer avant la première décision.
"""
