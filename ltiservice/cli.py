"""The `ltiservice` command: every operation of the service, one Flask CLI group."""

from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup

from ltiservice import create_app, migrate
from ltiservice.config import ConfigError


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


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
)
def main() -> None:
    """ltiservice: LTI 1.3 tool that grades certification blocks of competencies."""


@main.group("db")
def db_cli() -> None:
    """Database schema (Alembic migrations)."""


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    migrate.upgrade(current_app.config["SETTINGS"].database_url, revision)
    click.echo(f"Base de données à jour ({revision}).")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. base)."""
    migrate.downgrade(current_app.config["SETTINGS"].database_url, revision)
    click.echo(f"Base de données ramenée à {revision}.")


@db_cli.command("current")
def db_current() -> None:
    """Show the database's revision and the latest one."""
    settings = current_app.config["SETTINGS"]
    current = migrate.current_revision(current_app.extensions["db_engine"])
    click.echo(
        f"current: {current or 'none'}  head: {migrate.head_revision(settings.database_url)}"
    )


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Migrate, make sure keys exist, print how to register the tool, then serve with gunicorn."""
    settings = current_app.config["SETTINGS"]
    migrate.upgrade(settings.database_url)
    current_app.extensions["lti_keyring"].ensure()
    from ltiservice.onboarding import registration_instructions

    click.echo(registration_instructions(settings.base_url))
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
