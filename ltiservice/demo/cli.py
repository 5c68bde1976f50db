"""`ltiservice demo`: prepare the demonstration platform and serve the service with it."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext

from ltiservice import db, migrate
from ltiservice.demo import cast
from ltiservice.demo.bootstrap import ensure_demo
from ltiservice.demo.gradebook import Gradebook
from ltiservice.demo.platform import DemoUrls, platform_key


@click.command("demo")
@click.option("--workers", default=2, show_default=True, type=int, help="Nombre de processus web.")
@click.option(
    "--threads", default=4, show_default=True, type=int, help="Fils d'exécution par processus."
)
@click.option(
    "--no-serve",
    is_flag=True,
    help="Préparer la démonstration (sans effet si déjà faite) sans démarrer le serveur.",
)
@with_appcontext
def demo(workers: int, threads: int, no_serve: bool) -> None:
    """Essayer les parcours apprenant et formateur sans LMS, par de vrais lancements LTI 1.3.

    Migre la base, crée les clés de l'outil et de la plateforme de démonstration, enregistre
    cette plateforme et place une première évaluation CRCA B2B (une seule fois), puis sert le
    service à son adresse publique.
    """
    settings = current_app.config["SETTINGS"]
    if settings.is_production:
        raise click.ClickException("La démonstration ne se lance pas en production.")
    migrate.upgrade(settings.database_url)
    current_app.extensions["lti_keyring"].ensure()
    platform_key(settings.instance_path)
    urls = DemoUrls(settings.base_url)
    state = ensure_demo(
        db.session(),
        urls,
        Gradebook(current_app.extensions["lti_store"], urls),
        current_app.extensions["plugins"],
    )
    click.echo("=" * 64)
    click.echo("  DÉMONSTRATION — plateforme LTI 1.3 fictive intégrée au service")
    click.echo("=" * 64)
    click.echo(f"Cours : {cast.COURSE_TITLE}")
    click.echo(
        f"Évaluation prête : n° {state.assessment_id}" + (" (créée)" if state.created else "")
    )
    click.echo(f"Ouvrez {urls.home} dans votre navigateur.")
    if no_serve:
        return
    parts = urlsplit(settings.base_url)
    bind = parts.netloc if parts.port else f"{parts.hostname}:80"
    # Workers inherit this: the demo blueprints exist only in a process started this way.
    os.environ["LTISERVICE_DEMO_ENABLED"] = "1"
    # The interpreter running this command: gunicorn is found without the venv on PATH.
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:ltiservice.gunicorn_conf",
        "--workers",
        str(workers),
        # Threads: the tool fetches the demo platform's JWKS from its own server during a
        # launch; a single-threaded worker would wait on itself.
        "--threads",
        str(max(2, threads)),
        "--bind",
        bind,
        "ltiservice.wsgi:app",
    ]
    os.execvp(argv[0], argv)  # noqa: S606 - replaces this process with gunicorn
