"""`ltiservice registrations`: the links through which an LMS may register the tool."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from ltiservice import db
from ltiservice.errors import ServiceError
from ltiservice.lti.registration_links import (
    create_link,
    list_links,
    parse_duration,
    registration_url,
    revoke_link,
    unusable_reason,
)
from ltiservice.models import Organisation
from ltiservice.models.tenancy import utcnow

registrations_cli = AppGroup(
    "registrations", help="Liens d'enregistrement dynamique (LTI) confiés aux plateformes."
)


def _organisation(session, slug: str) -> Organisation:  # type: ignore[no-untyped-def]
    organisation = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        raise click.ClickException(
            f"Aucun organisme n'a le slug « {slug} ». Créez-le d'abord : "
            f'ltiservice organisations add {slug} --name "Nom de l\'organisme"'
        )
    return organisation


def _duration(_ctx: click.Context, _param: click.Parameter, value: str):  # type: ignore[no-untyped-def]
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@registrations_cli.command("create")
@click.option("--organisation", required=True, help="Slug de l'organisme de formation.")
@click.option(
    "--expires",
    "valid_for",
    default="7d",
    show_default=True,
    callback=_duration,
    help="Durée de validité : 12h, 7d, 2w…",
)
@click.option(
    "--uses",
    default=1,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Nombre d'enregistrements permis.",
)
@click.option("--note", default=None, help="Pour qui est ce lien (affiché par list).")
def create(organisation: str, valid_for, uses: int, note: str | None) -> None:  # type: ignore[no-untyped-def]
    """Crée un lien d'enregistrement ; son adresse est la dernière ligne affichée."""
    try:
        with db.transaction() as session:
            created = create_link(
                session, _organisation(session, organisation), valid_for, uses, note
            )
            link_id, expires = created.link.id, created.link.expires_at
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    url = registration_url(current_app.config["SETTINGS"].base_url, created.token)
    click.echo(
        f"Lien n° {link_id} pour {organisation}, valable jusqu'au {expires:%d/%m/%Y %H:%M} (UTC),"
        f" {uses} enregistrement(s). Collez cette adresse comme « URL de l'outil » dans la"
        " plateforme ; elle n'est affichée qu'une fois."
    )
    click.echo(url)


@registrations_cli.command("list")
@click.option("--organisation", default=None, help="Seulement cet organisme.")
def list_cmd(organisation: str | None) -> None:
    """Liste les liens : numéro, organisme, utilisations, expiration, état."""
    session = db.session()
    links = list_links(session, _organisation(session, organisation) if organisation else None)
    if not links:
        click.echo("Aucun lien d'enregistrement.")
    now = utcnow()
    for link in links:
        state = unusable_reason(link, now) or "utilisable"
        click.echo(
            f"{link.id}\t{link.organisation.slug}\t{link.uses}/{link.uses_allowed}\t"
            f"{link.expires_at:%d/%m/%Y %H:%M}\t{state}\t{link.note or ''}"
        )


@registrations_cli.command("revoke")
@click.argument("link_id", type=int)
def revoke(link_id: int) -> None:
    """Révoque un lien : il ne permet plus de commencer ni de terminer un enregistrement."""
    try:
        with db.transaction() as session:
            revoke_link(session, link_id)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Lien n° {link_id} révoqué.")
