"""`ltiservice keys`: generate, rotate and retire the tool's signing keys."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ltiservice.lti.keys import KeyRing, ToolKeyError

keys_cli = AppGroup("keys", help="Clés RSA de l'outil (signature des JWT, JWKS publié).")


def _keyring() -> KeyRing:
    return current_app.extensions["lti_keyring"]  # type: ignore[no-any-return]


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc))


@keys_cli.command("generate")
def generate() -> None:
    """Crée la première clé (refusé s'il y en a déjà une : utilisez rotate)."""
    try:
        key = _keyring().generate()
    except ToolKeyError as exc:
        _fail(exc)
        return
    click.echo(f"Clé créée : {key.kid} (dans {_keyring().folder})")


@keys_cli.command("rotate")
def rotate() -> None:
    """Nouvelle clé courante ; la précédente reste publiée dans le JWKS jusqu'à `keys retire`."""
    key = _keyring().rotate()
    click.echo(
        f"Nouvelle clé courante : {key.kid}. L'ancienne reste publiée jusqu'à "
        "`ltiservice keys retire`."
    )


@keys_cli.command("retire")
def retire() -> None:
    """Cesse de publier les clés précédentes."""
    retired = _keyring().retire_previous()
    click.echo("Clés retirées : " + (", ".join(retired) if retired else "aucune"))


@keys_cli.command("list")
def list_keys() -> None:
    """Affiche chaque clé et son état (jamais la partie privée)."""
    try:
        keys = _keyring().keys()
    except ToolKeyError as exc:
        _fail(exc)
        return
    if not keys:
        click.echo("Aucune clé : lancez `ltiservice keys generate`.")
    for key in keys:
        click.echo(f"{key.kid}\t{key.state}\t{key.created_at}")
