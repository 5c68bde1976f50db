"""``ltiservice plugins …``: list, show and validate certification plugins.

These commands read plugins only; they need neither the database nor an application context,
so the group is a plain `click.Group`. Other modules add commands to it with
``plugins_cli.add_command(...)``; importing this module has no side effect.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click

from ltiservice.grading.interface import CertificationPlugin, PluginError
from ltiservice.grading.loader import load_plugins, validate_plugin_path
from ltiservice.grading.referential import Block, CombinationRule, JuryRequirements, Referential

plugins_cli = click.Group("plugins", help="Plugins de certification (référentiels et règles).")


def _installed() -> dict[str, CertificationPlugin]:
    try:
        return load_plugins()
    except PluginError as exc:
        raise click.ClickException(f"plugin invalide : {exc}") from exc


@plugins_cli.command("list")
def list_command() -> None:
    """Liste les certifications installées."""
    plugins = _installed()
    if not plugins:
        click.echo("Aucun plugin de certification installé.")
        return
    for code, plugin in sorted(plugins.items()):
        current = plugin.current
        versions = ", ".join(
            f"{v}{' (courante)' if v == current.version else ''}" for v in plugin.referentials
        )
        click.echo(
            f"{code}  {current.certification.rncp_code or '-'}  {current.certification.title}"
        )
        click.echo(f"    versions : {versions}")
        click.echo(f"    blocs : {', '.join(block.code for block in current.blocks)}")


@plugins_cli.command("show")
@click.argument("code")
@click.option("--version", "version", default=None, help="Version du référentiel (courante sinon).")
def show_command(code: str, version: str | None) -> None:
    """Affiche le référentiel d'une certification : blocs, jury, règle d'obtention, cas."""
    plugins = _installed()
    plugin = plugins.get(code) or plugins.get(code.upper())
    if plugin is None:
        known = ", ".join(sorted(plugins)) or "aucun"
        raise click.ClickException(f"certification inconnue : {code} (installées : {known})")
    try:
        referential = plugin.referential(version)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from exc
    for line in describe_referential(referential):
        click.echo(line)


@plugins_cli.command("validate")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def validate_command(path: Path) -> None:
    """Valide un répertoire de plugin (non installé) ou un fichier de référentiel."""
    try:
        referentials = validate_plugin_path(path)
    except PluginError as exc:
        click.echo(f"Plugin {exc.plugin!r} invalide", err=True)
        if exc.file:
            click.echo(f"  fichier : {exc.file}", err=True)
        for problem in exc.problems:
            click.echo(f"  - {problem}", err=True)
        raise SystemExit(1) from exc
    for referential in referentials:
        certification = referential.certification
        criteria = sum(len(block.criteria()) for block in referential.blocks)
        click.echo(
            f"OK {certification.code} version {certification.version} : "
            f"{len(referential.blocks)} blocs, "
            f"{sum(len(b.competencies) for b in referential.blocks)} compétences, "
            f"{criteria} critères, {len(referential.cases)} cas pratiques"
        )


def describe_referential(referential: Referential) -> Iterator[str]:
    """A readable French tree of one referential version."""
    certification = referential.certification
    yield f"{certification.code} — {certification.title}"
    yield f"  code RNCP : {certification.rncp_code or '-'}    niveau : {certification.level or '-'}"
    yield f"  version : {certification.version}" + (
        f" (remplace {certification.supersedes})" if certification.supersedes else ""
    )
    if certification.registration_end_date:
        yield f"  fin d'enregistrement : {certification.registration_end_date.isoformat()}"
    yield f"  certificateur(s) : {'; '.join(certification.certifiers)}"
    yield "Blocs :"
    for block in referential.blocks:
        yield from _describe_block(referential, block)
    yield "Jury :"
    yield from _describe_jury(referential.jury)
    yield "Obtention de la certification :"
    yield from (f"  {line}" for line in combination_sentences(referential.combination))
    yield f"Note LMS : sur {referential.grade_maximum:g}"
    if referential.equivalences:
        yield "Équivalences :"
        for eq in referential.equivalences:
            yield f"  {eq.from_version} {eq.from_block} → {', '.join(eq.to_blocks)}"


def _describe_block(referential: Referential, block: Block) -> Iterator[str]:
    codes = f" [{block.rncp_block_code}]" if block.rncp_block_code else ""
    option = f" (option « {block.option_group} »)" if block.option_group else ""
    yield f"  {block.code}{codes}{option} {block.title}"
    criteria = len(block.criteria())
    yield f"    {len(block.competencies)} compétences, {criteria} critères"
    for competency in block.competencies:
        derived = " (critère déduit)" if any(c.derived for c in competency.criteria) else ""
        yield f"    {competency.code} : {len(competency.criteria)} critère(s){derived}"
    for epreuve in block.epreuves:
        optional = "" if epreuve.required else " (facultative)"
        committee = f", comité : {', '.join(epreuve.jury.roles)}" if epreuve.jury else ""
        yield f"    épreuve {epreuve.code}{optional} : {epreuve.title}{committee}"
    for case in referential.cases_for(block.code):
        duration = f", {case.duration_minutes} min" if case.duration_minutes else ""
        yield f"    cas : {case.id} — {case.title}{duration}"


def _describe_jury(jury: JuryRequirements) -> Iterator[str]:
    yield f"  au moins {jury.min_evaluators} évaluateurs"
    for role, label in jury.roles.items():
        required = " (obligatoire)" if role in jury.required_roles else ""
        yield f"  rôle {role} : {label}{required}"
    for exclusion in jury.exclusions:
        yield f"  exclusion : {exclusion.role} ne peut pas avoir {exclusion.may_not_have}"
    if jury.min_sessions:
        distinct = " à des dates différentes" if jury.distinct_session_dates else ""
        yield f"  au moins {jury.min_sessions} séances d'observation{distinct}"
    if jury.decisions:
        yield f"  décisions : {', '.join(jury.decisions)}"


def combination_sentences(rule: CombinationRule) -> list[str]:
    """The combination rule as French sentences."""
    sentences = []
    if rule.required_blocks:
        sentences.append(f"Acquérir les blocs obligatoires : {', '.join(rule.required_blocks)}.")
    for group in rule.choose:
        sentences.append(f"Acquérir {group.count} bloc(s) parmi : {', '.join(group.from_blocks)}.")
    if rule.final_interview:
        sentences.append("Réussir l'entretien final avec le jury.")
    return sentences


@plugins_cli.command("export-case")
@click.argument("code")
@click.option("--version", "version", default=None, help="Version du référentiel (courante sinon).")
@click.option(
    "--base-url",
    default=None,
    help="Adresse publique du service, pour les champs uri (réglage base_url sinon).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Fichier à écrire (sortie standard sinon).",
)
def export_case_command(
    code: str, version: str | None, base_url: str | None, output: Path | None
) -> None:
    """Écrit le référentiel au format 1EdTech CASE v1.1 (CFPackage JSON)."""
    import json

    from ltiservice.config import ConfigError, load_settings
    from ltiservice.grading.case import build_case_package, referential_last_change

    plugins = _installed()
    plugin = plugins.get(code) or plugins.get(code.upper())
    if plugin is None:
        known = ", ".join(sorted(plugins)) or "aucun"
        raise click.ClickException(f"certification inconnue : {code} (installées : {known})")
    try:
        referential = plugin.referential(version)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from exc
    if base_url is None:
        try:
            base_url = load_settings().base_url
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
    package = build_case_package(
        referential, base_url, referential_last_change(plugin), referential is plugin.current
    )
    text = json.dumps(package.package, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{output} : CFPackage {package.identifier}", err=True)


# Authoring commands live in their own module; registered here so `plugins` is one group.
from ltiservice.grading.cli_authoring import export_moodle_command, scaffold_command  # noqa: E402

plugins_cli.add_command(scaffold_command)
plugins_cli.add_command(export_moodle_command)
