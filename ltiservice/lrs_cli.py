"""`ltiservice lrs` (LRS destinations) and `ltiservice xapi replay` (history to a new LRS)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import click
from flask import current_app
from flask.cli import AppGroup

from ltiservice import db
from ltiservice.errors import ServiceError
from ltiservice.lrs import (
    KINDS,
    DestinationSpec,
    add_destination,
    destinations_of,
    find_destination,
    probe,
    remove_destination,
    set_active,
)
from ltiservice.models import Organisation
from ltiservice.statements import history, statements_for
from ltiservice.xapi_delivery import queue_statements

lrs_cli = AppGroup("lrs", help="Destinations xAPI (LRS) des organismes de formation.")
xapi_cli = AppGroup("xapi", help="Déclarations xAPI envoyées aux LRS.")

T = TypeVar("T")
REPLAY_COMMIT_EVERY = 200


def _secret_key() -> str:
    return str(current_app.config["SECRET_KEY"])


def _run(action: Callable[..., T]) -> T:
    try:
        with db.transaction() as session:
            return action(session)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc


def _password(env_var: str | None) -> str:
    # Never from argv: a command line is visible to every user of the machine (ps, history).
    if env_var:
        value = os.environ.get(env_var)
        if not value:
            raise click.ClickException(
                f"La variable d'environnement {env_var} est vide ou absente."
            )
        return value
    return str(click.prompt("Mot de passe du LRS", hide_input=True))


@lrs_cli.command("add")
@click.option("--organisation", required=True, help="Slug de l'organisme de formation.")
@click.option("--name", required=True, help="Nom de la destination (unique dans l'organisme).")
@click.option("--endpoint", required=True, help="Adresse xAPI du LRS, p. ex. https://lrs/xAPI")
@click.option("--username", required=True, help="Identifiant (authentification Basic).")
@click.option(
    "--password-env",
    default=None,
    metavar="VAR",
    help="Variable d'environnement qui contient le mot de passe (sinon, saisie masquée).",
)
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    default="organisation",
    show_default=True,
    help="organisation : LRS de l'organisme ; branch : LRS de la branche.",
)
def add(
    organisation: str,
    name: str,
    endpoint: str,
    username: str,
    password_env: str | None,
    kind: str,
) -> None:
    """Ajoute une destination LRS : les nouvelles déclarations de l'organisme y partiront."""
    spec = DestinationSpec(organisation, name, endpoint, username, _password(password_env), kind)
    destination = _run(lambda session: add_destination(session, _secret_key(), spec))
    click.echo(f"Destination LRS #{destination.id} « {destination.name} » ajoutée.")
    click.echo(
        "Pour y envoyer l'historique : ltiservice xapi replay --since AAAA-MM-JJ "
        f"--to {destination.id}"
    )


@lrs_cli.command("list")
def list_destinations() -> None:
    """Liste les destinations par organisme (jamais le mot de passe)."""
    rows = destinations_of(db.session())
    for destination in rows:
        slug = db.session().get(Organisation, destination.organisation_id)
        state = "active" if destination.active else "en pause"
        click.echo(
            f"#{destination.id}\t{slug.slug if slug else '?'}\t{destination.name}\t"
            f"{destination.kind}\t{destination.endpoint}\t{destination.username}\t{state}"
        )
    if not rows:
        click.echo("Aucune destination LRS.")


@lrs_cli.command("pause")
@click.argument("destination_id", type=int)
def pause(destination_id: int) -> None:
    """Mettre une destination en pause : elle ne reçoit plus de nouvelles déclarations."""
    _run(lambda session: set_active(session, find_destination(session, destination_id), False))
    click.echo(f"Destination #{destination_id} en pause.")


@lrs_cli.command("resume")
@click.argument("destination_id", type=int)
def resume(destination_id: int) -> None:
    """Reprendre les envois vers une destination mise en pause."""
    _run(lambda session: set_active(session, find_destination(session, destination_id), True))
    click.echo(f"Destination #{destination_id} de nouveau active.")


@lrs_cli.command("remove")
@click.argument("destination_id", type=int)
def remove(destination_id: int) -> None:
    """Supprime une destination ; ses envois non livrés passent en échec définitif."""
    dropped = _run(
        lambda session: remove_destination(session, find_destination(session, destination_id))
    )
    click.echo(f"Destination #{destination_id} supprimée ({dropped} envoi(s) abandonné(s)).")


@lrs_cli.command("test")
@click.argument("destination_id", type=int)
def test(destination_id: int) -> None:
    """Appelle réellement le LRS avec les identifiants enregistrés (GET statements?limit=1)."""
    try:
        destination = find_destination(db.session(), destination_id)
        result = probe(_secret_key(), destination, current_app.extensions["lti_http"])
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    if not result.ok:
        raise click.ClickException(f"{destination.endpoint} : {result.message}")
    click.echo(f"{destination.endpoint} : {result.message}")


@xapi_cli.command("replay")
@click.option(
    "--since",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Date de début (AAAA-MM-JJ, UTC) des faits à renvoyer.",
)
@click.option("--to", "destination_id", required=True, type=int, help="Destination LRS (id).")
def replay(since: datetime, destination_id: int) -> None:
    """Remet en file, pour une destination, les déclarations de l'historique depuis une date.

    Les déclarations sont reconstruites à partir des travaux remis, des évaluations signées, des
    décisions, du registre et des attributions ; leurs identifiants sont déterministes : le LRS
    ne stocke pas deux fois ce qu'il a déjà, et ce qui est déjà en file pour lui est sauté, de
    même qu'un fait déjà reçu (ou abandonné par un effacement). Le worker les livre ensuite.
    """
    session = db.session()
    try:
        destination = find_destination(session, destination_id)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    if not destination.active:
        raise click.ClickException(f"La destination #{destination_id} est désactivée.")
    items = history(session, destination.organisation_id, since.replace(tzinfo=UTC))
    queued = built = 0
    with click.progressbar(items, label="Déclarations remises en file", show_pos=True) as bar:
        for n, item in enumerate(bar, 1):
            try:
                statements = statements_for(session, item)
            except (ValueError, LookupError) as exc:
                session.rollback()
                raise click.ClickException(
                    f"{type(item.row).__name__} #{item.row.id} : déclaration impossible ({exc}). "
                    f"{queued} déclaration(s) déjà remises en file."
                ) from exc
            built += len(statements)
            queued += queue_statements(
                session,
                destination.organisation_id,
                statements,
                [destination],
                fact=item.fact,
                person_id=item.person_id,
            )
            if n % REPLAY_COMMIT_EVERY == 0:
                session.commit()
    session.commit()
    click.echo(
        f"{queued} déclaration(s) remise(s) en file pour « {destination.name} » "
        f"({built - queued} déjà en file)."
    )
