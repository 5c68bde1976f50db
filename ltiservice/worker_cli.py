"""`ltiservice worker` and `ltiservice outbox`: deliver, inspect and retry deliveries."""

from __future__ import annotations

import signal
import time

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from ltiservice import db, outbox
from ltiservice.models import OutboxMessage
from ltiservice.passback import deliverers


@click.command("worker")
@click.option("--once", is_flag=True, help="Livrer ce qui est dû, puis s'arrêter.")
@click.option("--interval", default=2.0, show_default=True, help="Secondes entre deux passages.")
@click.option("--batch", default=100, show_default=True, help="Envois traités au plus par passage.")
@with_appcontext
def worker(once: bool, interval: float, batch: int) -> None:
    """Livre les envois en file (notes AGS, déclarations xAPI), avec reprises."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    factory = app.extensions["db_sessionmaker"]
    registry = deliverers(app)
    lease_s = app.config["SETTINGS"].outbox_lease_s
    schedule = outbox.RetrySchedule.from_settings(app.config["SETTINGS"])
    stopping = False

    def _stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stopping:
        report = outbox.run_once(factory, registry, batch=batch, lease_s=lease_s, schedule=schedule)
        if report.handled:
            click.echo(
                f"livrés {report.delivered}, à réessayer {report.retried}, "
                f"en échec définitif {report.dead}"
            )
        if once and report.handled < batch:
            break
        if report.handled == 0:
            time.sleep(interval)


outbox_cli = AppGroup("outbox", help="Envois en attente vers les LMS et les LRS.")


@outbox_cli.command("status")
def status() -> None:
    """Nombre d'envois par état."""
    counts = outbox.counts(db.session())
    for state in ("pending", "delivered", "dead", "dropped"):
        click.echo(f"{state:10} {counts.get(state, 0)}")


@outbox_cli.command("dead")
@click.option("--limit", default=50, show_default=True, help="Nombre d'envois affichés au plus.")
def dead(limit: int) -> None:
    """Envois en échec définitif, avec la raison."""
    rows = db.session().scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == "dead")
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    for message in rows:
        click.echo(
            f"#{message.id}\t{message.kind}\t{message.destination}\t"
            f"{message.attempts} essai(s)\t{message.last_error}"
        )


@outbox_cli.command("retry")
@click.argument("ids", nargs=-1, type=int)
def retry(ids: tuple[int, ...]) -> None:
    """Remet en file les envois en échec (tous, ou ces numéros), la cause corrigée."""
    count = outbox.retry_dead(db.session(), list(ids) or None)
    click.echo(f"{count} envoi(s) remis en file.")
