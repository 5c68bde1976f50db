"""The `ltiservice` command: every operation of the service, one Flask CLI group."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup

from ltiservice import create_app, migrate
from ltiservice.config import ConfigError
from ltiservice.gunicorn_conf import READY_TEXT_ENV


def _create_app() -> object:
    from ltiservice.grading.interface import PluginError

    try:
        return create_app()
    except ConfigError as exc:
        click.echo(f"Configuration invalide : {exc}", err=True)
        sys.exit(2)
    except PluginError as exc:
        click.echo(f"Plugin de certification invalide : {exc}", err=True)
        sys.exit(2)


#: click's English words in a help page, in French (click has no French catalogue).
_WORDS = {
    "Usage: ": "Utilisation : ",
    "Commands": "Commandes",
    "Arguments": "Arguments",
    "Options": "Options",
}
_EXTRAS = (
    ("[default: ", "[par défaut : "),
    ("[required]", "[obligatoire]"),
    ("default: ", "par défaut : "),
)
#: Commands that Flask extensions add to every Flask CLI and that an operator never needs here.
_FOREIGN_COMMANDS = frozenset({"limiter"})


class FrenchHelpFormatter(click.HelpFormatter):
    """click's formatter with its headings and option extras in French."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, _WORDS["Usage: "] if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        super().write_heading(_WORDS.get(heading, heading))

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        super().write_dl(
            [(term, _french_extras(text)) for term, text in rows], col_max, col_spacing
        )


def _french_extras(text: str) -> str:
    for english, french in _EXTRAS:
        text = text.replace(english, french)
    return text


class FrenchContext(click.Context):
    formatter_class = FrenchHelpFormatter


class OperatorGroup(FlaskGroup):
    """Flask's CLI group without what does not apply to this service.

    The application is always `create_app()`, configured by LTISERVICE_* variables: Flask's
    generic `--app`, `--env-file` and `--debug` options are dropped, and so are commands that
    extensions register for every Flask app (Flask-Limiter's `limiter`).
    """

    context_class = FrenchContext

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.params = [p for p in self.params if p.name not in {"app", "env_file", "debug"}]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in super().list_commands(ctx) if name not in _FOREIGN_COMMANDS]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return None if name in _FOREIGN_COMMANDS else super().get_command(ctx, name)


def french_help(command: click.Command) -> None:
    """Give ``command`` and all its subcommands a French ``--help`` and French headings."""
    command.context_class = FrenchContext
    if command.add_help_option:
        command.add_help_option = False
        click.help_option("--help", help="Afficher cette aide et quitter.")(command)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            french_help(sub)


@click.group(
    cls=OperatorGroup,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
)
def main() -> None:
    """ltiservice : outil LTI 1.3 d'évaluation des blocs de compétences des certifications."""


@main.group("db")
def db_cli() -> None:
    """Schéma de la base de données (migrations Alembic)."""


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Applique les migrations jusqu'à REVISION (par défaut : la dernière)."""
    migrate.upgrade(current_app.config["SETTINGS"].database_url, revision)
    click.echo(f"Base de données à jour ({revision}).")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revient en arrière jusqu'à REVISION (p. ex. base)."""
    migrate.downgrade(current_app.config["SETTINGS"].database_url, revision)
    click.echo(f"Base de données ramenée à {revision}.")


@db_cli.command("current")
def db_current() -> None:
    """Affiche la révision de la base et la dernière disponible."""
    settings = current_app.config["SETTINGS"]
    current = migrate.current_revision(current_app.extensions["db_engine"])
    click.echo(
        f"current: {current or 'none'}  head: {migrate.head_revision(settings.database_url)}"
    )


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port d'écoute.")
@click.option("--workers", default=2, show_default=True, type=int, help="Nombre de processus web.")
def serve(host: str, port: int, workers: int) -> None:
    """Migre la base, crée les clés, affiche comment enregistrer l'outil, puis sert (gunicorn)."""
    settings = current_app.config["SETTINGS"]
    migrate.upgrade(settings.database_url)
    current_app.extensions["lti_keyring"].ensure()
    from ltiservice.onboarding import registration_instructions

    # Printed by gunicorn once its last worker is up (gunicorn_conf.post_worker_init), so the
    # registration steps are the last thing on the terminal, below the start-up lines.
    os.environ[READY_TEXT_ENV] = registration_instructions(settings.base_url)
    # The venv's own interpreter, so `.venv/bin/ltiservice serve` works off PATH too.
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:ltiservice.gunicorn_conf",
        "--workers",
        str(workers),
        "--bind",
        f"{host}:{port}",
        "ltiservice.wsgi:app",
    ]
    os.execv(argv[0], argv)  # noqa: S606 - replaces this process with gunicorn


def _register_groups() -> None:
    from ltiservice.keys_cli import keys_cli
    from ltiservice.platforms_cli import organisations_cli, platforms_cli

    main.add_command(keys_cli)
    main.add_command(platforms_cli)
    main.add_command(organisations_cli)
    from ltiservice.registrations_cli import registrations_cli

    main.add_command(registrations_cli)
    from ltiservice.worker_cli import outbox_cli, worker

    main.add_command(worker)
    main.add_command(outbox_cli)
    from ltiservice.privacy_cli import privacy_cli

    main.add_command(privacy_cli)
    from ltiservice.exports.cli import export_cli

    main.add_command(export_cli)
    from ltiservice.lrs_cli import lrs_cli, xapi_cli

    main.add_command(lrs_cli)
    main.add_command(xapi_cli)
    from ltiservice.credentials_cli import credentials_cli

    main.add_command(credentials_cli)
    from ltiservice.demo.cli import demo

    main.add_command(demo)
    try:
        from ltiservice.grading.cli import plugins_cli
    except ImportError:  # grading package not installed in this build
        return
    main.add_command(plugins_cli)


_register_groups()
french_help(main)
