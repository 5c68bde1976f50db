"""`ltiservice privacy`: a person's data exported or erased (RGPD), files past retention purged."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ltiservice import db
from ltiservice.errors import ServiceError
from ltiservice.privacy import (
    KEPT_FOR_CERTIFIER,
    erase_person,
    export_person,
    find_person,
    purge_expired_files,
)

privacy_cli = AppGroup("privacy", help="Données personnelles des apprenants (RGPD).")

_person_options = [
    click.option(
        "--platform",
        "platform_id",
        required=True,
        type=int,
        help="Identifiant de la plateforme (ltiservice platforms list).",
    ),
    click.option("--sub", required=True, help="Identifiant LTI de la personne (claim sub)."),
]


def _with_person(func):  # type: ignore[no-untyped-def]
    for option in reversed(_person_options):
        func = option(func)
    return func


@privacy_cli.command("export")
@_with_person
@click.option(
    "--out", type=click.Path(path_type=Path), required=True, help="Fichier JSON à écrire."
)
def export(platform_id: int, sub: str, out: Path) -> None:
    """Écrit en JSON tout ce qui est conservé sur une personne (droit d'accès et portabilité)."""
    try:
        person = find_person(db.session(), platform_id, sub)
        data = export_person(db.session(), person)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    directory = out.resolve().parent
    if not directory.is_dir():
        raise click.ClickException(f"Dossier inexistant : {directory}")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".export-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2)
    os.replace(tmp, out)
    click.echo(f"Données exportées dans {out}.")


@privacy_cli.command("erase")
@_with_person
@click.option("--yes", is_flag=True, help="Ne pas demander de confirmation.")
def erase(platform_id: int, sub: str, yes: bool) -> None:
    """Efface les données personnelles d'une personne (restent les données anonymisées)."""
    try:
        person = find_person(db.session(), platform_id, sub)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(KEPT_FOR_CERTIFIER)
    if not yes:
        click.confirm(
            "Effacer définitivement les données personnelles de cette personne ?", abort=True
        )
    counts = erase_person(db.session(), person, current_app.config["SETTINGS"].upload_dir)
    click.echo(
        f"Effacé : identifiant, nom et courriel ; {counts['submissions']} travaux (textes), "
        f"{counts['files']} fichier(s), {counts['remarks']} lecture(s) d'évaluateurs "
        f"(remarques) ; {counts['pending_deliveries']} envoi(s) non encore faits abandonnés "
        f"(et consignés), {counts['sent_deliveries']} envoi(s) déjà faits réduits à leur "
        f"identifiant, {counts['renamed_deliveries']} envoi(s) d'autres personnes qui la "
        "nommaient passés sous pseudonyme."
    )


@privacy_cli.command("purge-files")
@click.option(
    "--days",
    type=int,
    default=None,
    help="Durée de conservation (par défaut : le réglage file_retention_days).",
)
def purge_files(days: int | None) -> None:
    """Supprime les fichiers des travaux décidés plus anciens que la durée de conservation."""
    settings = current_app.config["SETTINGS"]
    retention = settings.file_retention_days if days is None else days
    if retention <= 0:
        raise click.ClickException("Aucune durée de conservation réglée (file_retention_days).")
    purged = purge_expired_files(db.session(), settings.upload_dir, retention)
    click.echo(f"{purged} fichier(s) supprimé(s).")
