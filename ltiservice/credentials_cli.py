"""``ltiservice credentials list|revoke|issue-missing``: the organisation's issued badges."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ltiservice import credentials, db
from ltiservice.errors import ServiceError
from ltiservice.models import IssuedCredential, Organisation

credentials_cli = click.Group("credentials", help="Attestations Open Badges 3.0 délivrées.")


@credentials_cli.command("list")
@click.argument("organisation")
@with_appcontext
def list_command(organisation: str) -> None:
    """Liste les attestations délivrées par l'organisme (identifiant court)."""
    session = db.session()
    org = session.scalar(select(Organisation).where(Organisation.slug == organisation))
    if org is None:
        raise click.ClickException(f"organisme inconnu : {organisation}")
    rows = session.scalars(
        select(IssuedCredential)
        .where(IssuedCredential.organisation_id == org.id)
        .order_by(IssuedCredential.id)
    ).all()
    if not rows:
        click.echo("Aucune attestation délivrée par cet organisme.")
    for issued in rows:
        state = f"révoquée le {issued.revoked_at:%Y-%m-%d}" if issued.revoked_at else "valide"
        source = issued.ledger_entry or issued.award
        assert source is not None  # one of the two is always set
        what = (
            f"{issued.ledger_entry.block_code}"
            if issued.ledger_entry is not None
            else "certification"
        )
        click.echo(
            f"{issued.id}  {source.certification_code} {source.referential_version} "
            f"{what}  personne {issued.person_id}  {issued.issued_at:%Y-%m-%d}  {state}"
        )


@credentials_cli.command("revoke")
@click.argument("credential_id", type=int)
@click.option("--reason", required=True, help="Motif de la révocation.")
@with_appcontext
def revoke_command(credential_id: int, reason: str) -> None:
    """Révoque une attestation (son bit est levé dans la liste de statut)."""
    try:
        with db.transaction() as session:
            credentials.revoke(session, credential_id, reason)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"attestation {credential_id} révoquée")


@credentials_cli.command("issue-missing")
@with_appcontext
def issue_missing_command() -> None:
    """Délivre les attestations des blocs capitalisés qui n'en ont pas encore."""
    with db.transaction() as session:
        count = credentials.issue_missing(session)
    click.echo(f"{count} attestation(s) délivrée(s)")
