"""`ltiservice platforms` and `ltiservice organisations`: registrations from the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ltiservice import db
from ltiservice.errors import ServiceError
from ltiservice.models import Organisation
from ltiservice.platforms import (
    PlatformSpec,
    add_deployment,
    add_platform,
    approve_platform,
    find_platform,
    get_or_create_organisation,
    load_specs,
    platforms_of,
    remove_platform,
)

platforms_cli = AppGroup("platforms", help="Plateformes LMS enregistrées (LTI 1.3).")
organisations_cli = AppGroup("organisations", help="Organismes de formation (locataires).")


def _run(action):  # type: ignore[no-untyped-def]
    try:
        with db.transaction() as session:
            return action(session)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc


@platforms_cli.command("add")
@click.option("--organisation", required=True, help="Slug de l'organisme de formation.")
@click.option("--name", required=True, help="Nom affiché de la plateforme.")
@click.option("--issuer", required=True, help="Issuer de la plateforme (URL).")
@click.option(
    "--client-id", required=True, help="Identifiant client que la plateforme a attribué à l'outil."
)
@click.option(
    "--auth-login-url", required=True, help="URL d'authentification OIDC de la plateforme."
)
@click.option("--auth-token-url", required=True, help="URL de jeton OAuth 2 de la plateforme.")
@click.option("--key-set-url", required=True, help="URL du JWKS (clés publiques) de la plateforme.")
@click.option(
    "--deployment-id",
    "deployment_ids",
    multiple=True,
    help="Identifiant de déploiement (répétable).",
)
@click.option(
    "--auth-audience", default=None, help="Audience du jeton, si la plateforme en exige une."
)
def add(
    organisation: str,
    name: str,
    issuer: str,
    client_id: str,
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    deployment_ids: tuple[str, ...],
    auth_audience: str | None,
) -> None:
    """Enregistre une plateforme (un LMS) et ses déploiements."""
    spec = PlatformSpec(
        organisation,
        name,
        issuer,
        client_id,
        auth_login_url,
        auth_token_url,
        key_set_url,
        deployment_ids,
        auth_audience,
    )
    platform = _run(lambda session: add_platform(session, spec))
    click.echo(f"Plateforme {platform.id} enregistrée : {issuer} / {client_id}")


@platforms_cli.command("import")
@click.argument("path", type=click.Path(path_type=Path))
def import_file(path: Path) -> None:
    """Enregistre chaque plateforme d'un fichier JSON (voir config/platforms.example.json)."""

    def action(session):  # type: ignore[no-untyped-def]
        return [add_platform(session, spec) for spec in load_specs(path)]

    platforms = _run(action)
    click.echo(f"{len(platforms)} plateforme(s) enregistrée(s).")


@platforms_cli.command("add-deployment")
@click.argument("platform_id")
@click.argument("deployment_id")
def add_deployment_cmd(platform_id: str, deployment_id: str) -> None:
    """Ajoute un identifiant de déploiement à une plateforme enregistrée."""
    _run(
        lambda session: add_deployment(session, find_platform(session, platform_id), deployment_id)
    )
    click.echo(f"Déploiement {deployment_id} ajouté.")


@platforms_cli.command("list")
def list_platforms() -> None:
    """Liste les plateformes, une ligne chacune."""
    rows = platforms_of(db.session())
    if not rows:
        click.echo("Aucune plateforme enregistrée.")
    for p in rows:
        click.echo(
            f"{p.id}\t{p.organisation.slug}\t{p.name}\t{p.issuer}\t{p.client_id}\t"
            f"{len(p.deployments)} déploiement(s)\t{p.source}\t{_STATUS[p.status]}"
        )


@platforms_cli.command("show")
@click.argument("platform_id")
def show(platform_id: str) -> None:
    """Affiche tous les champs d'une plateforme."""
    p = _run(lambda session: find_platform(session, platform_id))
    for label, value in [
        ("id", p.id),
        ("organisation", p.organisation.slug),
        ("nom", p.name),
        ("issuer", p.issuer),
        ("client_id", p.client_id),
        ("auth_login_url", p.auth_login_url),
        ("auth_token_url", p.auth_token_url),
        ("key_set_url", p.key_set_url),
        ("auth_audience", p.auth_audience or "-"),
        ("source", p.source),
        ("état", _STATUS[p.status]),
        ("déploiements", ", ".join(d.deployment_id for d in p.deployments) or "-"),
    ]:
        click.echo(f"{label:16} {value}")


_STATUS = {"active": "active", "pending": "en attente de validation"}


@platforms_cli.command("approve")
@click.argument("platform_id")
def approve(platform_id: str) -> None:
    """Valide une plateforme enregistrée par lien : ses lancements sont acceptés désormais."""

    def action(session):  # type: ignore[no-untyped-def]
        platform = find_platform(session, platform_id)
        return platform.name, approve_platform(session, platform)

    name, was_pending = _run(action)
    if not was_pending:
        click.echo(f"La plateforme {platform_id} ({name}) était déjà active.")
    else:
        click.echo(f"Plateforme {platform_id} ({name}) validée : ses lancements sont acceptés.")


@platforms_cli.command("remove")
@click.argument("platform_id")
@click.option("--yes", is_flag=True, help="Ne pas demander de confirmation.")
def remove(platform_id: str, yes: bool) -> None:
    """Supprime une plateforme, ses déploiements, ses personnes et ses cours."""
    if not yes:
        click.confirm(f"Supprimer la plateforme {platform_id} ?", abort=True)
    _run(lambda session: remove_platform(session, find_platform(session, platform_id)))
    click.echo(f"Plateforme {platform_id} supprimée.")


@organisations_cli.command("add")
@click.argument("slug")
@click.option("--name", default=None, help="Nom de l'organisme (par défaut : le slug).")
def add_organisation(slug: str, name: str | None) -> None:
    """Crée un organisme de formation."""
    _run(lambda session: get_or_create_organisation(session, slug, name))
    click.echo(f"Organisme {slug} prêt.")


@organisations_cli.command("list")
def list_organisations() -> None:
    """Liste les organismes de formation, une ligne chacun."""
    rows = db.session().scalars(select(Organisation).order_by(Organisation.id)).all()
    if not rows:
        click.echo("Aucun organisme de formation : ltiservice organisations add <slug>.")
    for o in rows:
        click.echo(f"{o.id}\t{o.slug}\t{o.name}")
