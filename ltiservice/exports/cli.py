"""`ltiservice export …`: the certifier exports, one organisation at a time.

Bad input (unknown organisation or certification, bad dates, unwritable path, missing
identity field) ends with a French message on stderr and a non-zero exit, and no file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click
from flask import current_app
from flask.cli import AppGroup

from ltiservice import db
from ltiservice.errors import ServiceError
from ltiservice.exports import records
from ltiservice.exports.output import atomic_output, check_writable
from ltiservice.exports.scope import find_certification, find_organisation, parse_period
from ltiservice.exports.tabular import FORMATS, write_table

export_cli = AppGroup("export", help="Exports pour le certificateur (CSV, JSON, XML CDC, PV).")


class ExportFailed(click.ClickException):
    """Shown in French, without click's English prefix; exit status 1."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"Erreur : {self.format_message()}", err=True, file=file)


@contextmanager
def french_errors() -> Iterator[None]:
    """Turn the service's errors into a French message and a non-zero exit."""
    try:
        yield
    except ServiceError as exc:
        raise ExportFailed(exc.message) from exc


def scope_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--organisation, --certification, --from, --to: what every period export takes."""
    for option in reversed(
        [
            click.option("--organisation", required=True, help="Slug de l'organisme de formation."),
            click.option(
                "--certification",
                required=True,
                help="Code de la certification (CRCA, RNCP41351…).",
            ),
            click.option("--from", "date_from", default=None, help="Premier jour (AAAA-MM-JJ)."),
            click.option("--to", "date_to", default=None, help="Dernier jour inclus (AAAA-MM-JJ)."),
        ]
    ):
        function = option(function)
    return function


def build_scope(
    organisation: str,
    certification: str,
    date_from: str | None,
    date_to: str | None,
    **flags: bool,
) -> records.Scope:
    """Check the scope options against the database and the installed plugins."""
    period = parse_period(date_from, date_to)
    found = find_organisation(db.session(), organisation)
    plugin = find_certification(current_app.extensions["plugins"], certification)
    return records.Scope(found.id, found.slug, plugin, period, **flags)


def _tabular(kind: str, scope: records.Scope, fmt: str, out: Path) -> int:
    session = db.session()
    table = records.TABLES[kind]
    total = table.count(session, scope)
    with (
        atomic_output(out) as handle,
        click.progressbar(length=total, label=f"Export {table.label}", file=sys.stderr) as bar,
    ):
        for _ in write_table(session, table, scope, fmt, handle):
            bar.update(1)
    return total


def _table_command(name: str, help_text: str) -> Callable[..., Any]:
    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        function = click.option(
            "--with-names",
            is_flag=True,
            help="Ajouter nom et courriel quand le LMS les a transmis.",
        )(function)
        function = click.option(
            "--out", required=True, type=click.Path(path_type=Path), help="Fichier à écrire."
        )(function)
        function = click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            default="csv",
            show_default=True,
            help="csv : pour Excel (en-têtes et dates en français) ; json : pour les programmes.",
        )(function)
        return export_cli.command(name, help=help_text)(scope_options(function))

    return decorate


@_table_command("decisions", "Décisions de jury : une ligne par apprenant et bloc.")
@click.option(
    "--all-versions",
    is_flag=True,
    help="Inclure les décisions remplacées par une correction (colonne superseded_by).",
)
def decisions(
    organisation: str,
    certification: str,
    date_from: str | None,
    date_to: str | None,
    fmt: str,
    out: Path,
    with_names: bool,
    all_versions: bool,
) -> None:
    """Écrit les décisions de jury d'une certification et d'une période."""
    with french_errors():
        check_writable(out)
        scope = build_scope(
            organisation,
            certification,
            date_from,
            date_to,
            with_names=with_names,
            all_versions=all_versions,
        )
        total = _tabular("decisions", scope, fmt, out)
    click.echo(f"{total} décision(s) écrite(s) dans {out}.")


@_table_command("ledger", "Blocs acquis (capitalisation) : une ligne par apprenant et bloc.")
def ledger(
    organisation: str,
    certification: str,
    date_from: str | None,
    date_to: str | None,
    fmt: str,
    out: Path,
    with_names: bool,
) -> None:
    """Écrit les blocs acquis (registre de capitalisation) d'une certification et d'une période."""
    with french_errors():
        check_writable(out)
        scope = build_scope(organisation, certification, date_from, date_to, with_names=with_names)
        total = _tabular("ledger", scope, fmt, out)
    click.echo(f"{total} bloc(s) acquis écrit(s) dans {out}.")


@export_cli.command("accrochage")
@scope_options
@click.option(
    "--identities",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV d'état civil des titulaires (jamais conservé par le service).",
)
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Identifiants CDC de l'organisme (voir config/accrochage.example.toml).",
)
@click.option(
    "--session",
    "session_id",
    type=int,
    default=None,
    help="Seulement les certifications attribuées par cette session de jury (signée).",
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Fichier XML.")
def accrochage(
    organisation: str,
    certification: str,
    date_from: str | None,
    date_to: str | None,
    identities: Path,
    config_path: Path,
    session_id: int | None,
    out: Path,
) -> None:
    """Écrit le XML d'accrochage CDC des certifications attribuées par le jury dans la période."""
    from ltiservice.exports.accrochage import build_accrochage, load_sender
    from ltiservice.exports.output import write_bytes

    with french_errors():
        check_writable(out)
        scope = build_scope(organisation, certification, date_from, date_to)
        sender = load_sender(config_path)
        version = current_app.config["SETTINGS"].cdc_xsd_version
        document, count = build_accrochage(
            db.session(), scope, sender, identities, version, session_id=session_id
        )
        write_bytes(out, document)
    click.echo(f"{count} passage(s) de certification déclaré(s) dans {out} (XSD CDC {version}).")


@export_cli.command("pv")
@click.option("--organisation", required=True, help="Slug de l'organisme de formation.")
@click.option("--assessment", "assessment_id", required=True, type=int, help="Id de l'évaluation.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Fichier PDF.")
def pv(organisation: str, assessment_id: int, out: Path) -> None:
    """Écrit le procès-verbal (PDF) d'une session : une évaluation placée."""
    from ltiservice.exports.output import write_bytes
    from ltiservice.exports.pv import find_assessment, gather_minutes, render_pdf

    with french_errors():
        check_writable(out)
        session = db.session()
        found = find_organisation(session, organisation)
        assessment = find_assessment(session, found, assessment_id)
        minutes = gather_minutes(session, found, assessment, current_app.extensions["plugins"])
        write_bytes(out, render_pdf(minutes))
    click.echo(f"Procès-verbal de {len(minutes.candidates)} candidat(s) écrit dans {out}.")


@export_cli.command("pv-jury")
@click.option("--organisation", required=True, help="Slug de l'organisme de formation.")
@click.option("--session", "session_id", required=True, type=int, help="Id de la session de jury.")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Fichier PDF.")
def pv_jury(organisation: str, session_id: int, out: Path) -> None:
    """Écrit le procès-verbal signé d'une session du jury de certification, tel que stocké."""
    from ltiservice.certification.sessions import session_for
    from ltiservice.exports.output import write_bytes
    from ltiservice.exports.scope import ExportError

    with french_errors():
        check_writable(out)
        session = db.session()
        found = find_organisation(session, organisation)
        jury = session_for(session, found.id, session_id)
        if jury.minutes_pdf is None:
            raise ExportError(
                f"La session {session_id} n'est pas signée : son procès-verbal n'existe pas encore."
            )
        write_bytes(out, jury.minutes_pdf)
    click.echo(
        f"Procès-verbal signé de la session du {jury.held_on:%d/%m/%Y} écrit dans {out} "
        f"(SHA-256 {jury.minutes_sha256})."
    )
