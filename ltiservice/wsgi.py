"""WSGI entry point for gunicorn: `gunicorn ltiservice.wsgi:app`."""

from ltiservice import create_app

app = create_app()
