"""WSGI entry point for gunicorn: `gunicorn ltiservice.wsgi:app`.

On the embedded default each web process also runs a small outbox worker thread; in
production set `outbox_thread = false` and run `ltiservice worker` processes instead.
"""

from ltiservice import create_app
from ltiservice.outbox import BackgroundWorker, RetrySchedule
from ltiservice.passback import deliverers

app = create_app()

if app.config["SETTINGS"].outbox_thread:
    BackgroundWorker(
        app.extensions["db_sessionmaker"],
        deliverers(app),
        lease_s=app.config["SETTINGS"].outbox_lease_s,
        schedule=RetrySchedule.from_settings(app.config["SETTINGS"]),
    ).start()
