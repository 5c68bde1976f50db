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
@click.option("--name", required=True)
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
@click.option("--auth-login-url", required=True)
@click.option("--auth-token-url", required=True)
@click.option("--key-set-url", required=True)
@click.option("--deployment-id", "deployment_ids", multiple=True)
@click.option("--auth-audience", default=None)
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
    """Register a platform (an LMS) and its deployments."""
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
    """Register every platform of a JSON file (see config/platforms.example.json)."""

    def action(session):  # type: ignore[no-untyped-def]
        return [add_platform(session, spec) for spec in load_specs(path)]

    platforms = _run(action)
    click.echo(f"{len(platforms)} plateforme(s) enregistrée(s).")


@platforms_cli.command("add-deployment")
@click.argument("platform_id")
@click.argument("deployment_id")
def add_deployment_cmd(platform_id: str, deployment_id: str) -> None:
    """Add a deployment id to a registered platform."""
    _run(
        lambda session: add_deployment(session, find_platform(session, platform_id), deployment_id)
    )
    click.echo(f"Déploiement {deployment_id} ajouté.")


@platforms_cli.command("list")
def list_platforms() -> None:
    """One line per platform."""
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
    """Every field of one platform."""
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
    """Approve a dynamically registered platform: its launches are accepted from now on."""

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
    """Remove a platform, its deployments, people and courses."""
    if not yes:
        click.confirm(f"Supprimer la plateforme {platform_id} ?", abort=True)
    _run(lambda session: remove_platform(session, find_platform(session, platform_id)))
    click.echo(f"Plateforme {platform_id} supprimée.")


@organisations_cli.command("add")
@click.argument("slug")
@click.option("--name", default=None)
def add_organisation(slug: str, name: str | None) -> None:
    """Create a training organisation."""
    _run(lambda session: get_or_create_organisation(session, slug, name))
    click.echo(f"Organisme {slug} prêt.")


@organisations_cli.command("list")
def list_organisations() -> None:
    for o in db.session().scalars(select(Organisation).order_by(Organisation.id)):
        click.echo(f"{o.id}\t{o.slug}\t{o.name}")
