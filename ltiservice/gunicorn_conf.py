"""gunicorn settings of every way the service is served (`ltiservice serve`, demo, Docker).

Threaded workers: a request waiting on a slow platform or LRS holds one thread, never a
whole process, so `/health` and the other requests go on (outbound calls end at their
deadline, `outbound_deadline_s`). In production a reverse proxy in front buffers slow
clients (docs/security.md). The access log never holds a query string or a link token.
"""

import os
import sys
from typing import Any

from ltiservice.access_log import FORMAT

#: Text `ltiservice serve` wants shown once the service is up (the registration steps).
READY_TEXT_ENV = "LTISERVICE_SERVE_READY_TEXT"

worker_class = "gthread"
threads = 8
# Above the outbound deadline (15 s by default) and an upload on a slow line.
timeout = 120
graceful_timeout = 30
accesslog = "-"
access_log_format = FORMAT
logger_class = "ltiservice.access_log.AccessLogger"
# gunicorn 27's admin socket defaults to one path per user: two services (or a test run
# beside a running service) on one machine would take each other's. Nothing uses it.
control_socket_disable = True


def post_worker_init(worker: Any) -> None:
    """Once the first round of workers is up, print what `ltiservice serve` asked to show."""
    text = os.environ.get(READY_TEXT_ENV)
    if text and worker.age == worker.cfg.workers:
        print(text, file=sys.stderr, flush=True)
