"""``ltiservice plugins scaffold`` and ``ltiservice plugins export-moodle``: authoring tools.

``scaffold`` turns a fiche of the RNCP export (xml or zip, streamed with a progress bar on
stderr) into a new plugin package to review; ``export-moodle`` writes an installed referential
as a Moodle competency framework CSV. Both are plain click commands, registered on the
``plugins`` group by ``ltiservice.grading.cli``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ltiservice.grading.interface import CertificationPlugin, PluginError
from ltiservice.grading.loader import load_plugins
from ltiservice.grading.moodle import MoodleExportError, build_moodle_framework_csv
from ltiservice.grading.rncp import RncpImportError, find_fiche
from ltiservice.grading.scaffold import ScaffoldError, scaffold_plugin


class _Progress:
    """Adapts the reader's (bytes read, total) callback to a click progress bar on stderr."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._bar: Any = None
        self._shown = 0

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = click.progressbar(length=max(total, 1), label=self._label, file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(done - self._shown)
        self._shown = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


@click.command("scaffold")
@click.option(
    "--from-rncp",
    "source",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Export RNCP de France compétences (.xml ou .zip).",
)
@click.option("--fiche", "numero", required=True, help="Numéro de fiche, ex. RNCP41351.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Dossier du nouveau plugin (ne doit pas exister).",
)
@click.option("--code", default=None, help="Code de certification (défaut : numéro de fiche).")
def scaffold_command(source: Path, numero: str, out: Path, code: str | None) -> None:
    """Crée un plugin de certification à relire depuis une fiche de l'export RNCP."""
    if out.exists():  # checked first: do not stream a 570 MB file to refuse afterwards
        raise click.ClickException(f"{out} existe déjà : choisissez un autre dossier.")
    progress = _Progress(f"Lecture de {source.name}")
    try:
        fiche = find_fiche(source, numero, progress=progress)
    except RncpImportError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        progress.close()
    try:
        result = scaffold_plugin(fiche, out, code=code)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Plugin {result.distribution} écrit dans {result.root}")
    click.echo(
        f"  fiche {fiche.numero} : {result.block_count} bloc(s), "
        f"{result.competency_count} compétence(s) proposée(s)"
    )
    click.echo(f"  référentiel : {result.referential}")
    click.echo(f"  à relire : {result.root / 'README.md'}")
    click.echo(
        f"  puis : ltiservice plugins validate {result.root} && pip install -e {result.root}"
    )


@click.command("export-moodle")
@click.argument("code")
@click.option("--version", "version", default=None, help="Version du référentiel (courante sinon).")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Fichier CSV à écrire (sortie standard sinon).",
)
@click.option(
    "--with-criteria",
    is_flag=True,
    help="Ajoute les critères d'évaluation comme 3e niveau (sinon dans les descriptions).",
)
def export_moodle_command(
    code: str, version: str | None, out: Path | None, with_criteria: bool
) -> None:
    """Exporte un référentiel installé en référentiel de compétences Moodle (CSV)."""
    plugin = _plugin(code)
    try:
        referential = plugin.referential(version)
    except KeyError as exc:
        raise click.ClickException(f"version inconnue : {exc.args[0]}") from exc
    try:
        text = build_moodle_framework_csv(referential, include_criteria=with_criteria)
    except MoodleExportError as exc:
        raise click.ClickException(str(exc)) from exc
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise click.ClickException(f"Impossible d'écrire {out} : {exc}") from exc
    click.echo(
        f"Référentiel {referential.certification.code} {referential.version} → {out}", err=True
    )


def _installed_plugins() -> dict[str, CertificationPlugin]:
    try:
        return load_plugins()
    except PluginError as exc:
        raise click.ClickException(f"plugin invalide : {exc}") from exc


def _plugin(code: str) -> CertificationPlugin:
    plugins = _installed_plugins()
    plugin = plugins.get(code) or plugins.get(code.upper())
    if plugin is None:
        known = ", ".join(sorted(plugins)) or "aucune"
        raise click.ClickException(f"certification inconnue : {code} (installées : {known})")
    return plugin
