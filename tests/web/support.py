"""Administrators of one organisation, and a tiny LRS that checks its Basic credentials."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.security.world import OTHER_ORG_CLIENT, Actor, World, launch, place, register
from tests.support.lti_harness import INSTRUCTOR, LtiHarness

ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"


def admin_world(lti: LtiHarness) -> World:
    """An administrator, a trainer and a learner of `of-test`; an administrator of `of-autre`."""
    world = World(lti)
    world.platforms = {
        "P1": lti.platform_id,
        "P3": register(lti, "of-autre", OTHER_ORG_CLIENT, "Open edX d'un autre organisme"),
    }
    world.assessments = {
        "X": place(lti, world.platforms["P1"], "course-1", "link-1", "Étude de cas B2B"),
        "X3": place(lti, world.platforms["P3"], "course-1", "link-1", "Étude d'un autre OF"),
    }
    launch(world, "admin", "admin-1", role=ADMINISTRATOR, name="Aline Administratrice")
    launch(world, "trainer", "trainer-1", role=INSTRUCTOR)
    launch(world, "learner", "learner-1")
    launch(world, "other_admin", "admin-1", role=ADMINISTRATOR, client_id=OTHER_ORG_CLIENT)
    world.actors["anonymous"] = Actor("anonymous", None, "", "", lti.tool_url)
    return world


class _Lrs(BaseHTTPRequestHandler):
    expected = "Basic " + base64.b64encode(b"lrs-user:s3cret-lrs-password").decode()

    def do_GET(self) -> None:
        self.send_response(200 if self.headers.get("Authorization") == self.expected else 401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"statements": []}')

    def log_message(self, *_args: object) -> None:
        pass


@contextmanager
def fake_lrs() -> Iterator[str]:
    """The xAPI base URL of a local LRS that accepts `lrs-user` / `s3cret-lrs-password`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Lrs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/xAPI"
    finally:
        server.shutdown()
        server.server_close()
