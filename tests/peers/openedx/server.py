"""Open edX LTI 1.3 platform peer: HTTP server entry point.

Runs INSIDE the peer's own virtualenv (``lti-consumer-xblock`` is AGPL-3.0: test-only, never
imported by the service or the test process). Started by ``tests/peers/platform.py``::

    <venv>/bin/python tests/peers/openedx/server.py --port 0 --port-file /tmp/x/port

It binds 127.0.0.1, writes the chosen port to ``--port-file`` once listening, and serves until
SIGTERM / SIGINT.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parent))

from django_boot import boot, clear_request_cache

boot()

from http_glue import HttpError, Request, Response, error_response  # noqa: E402
from peer_app import Platform  # noqa: E402

log = logging.getLogger("openedx_peer")


class PeerServer(ThreadingHTTPServer):
    """One thread per connection; a deeper accept queue than the stdlib's 5 for load tests."""

    daemon_threads = True
    request_queue_size = 128


class PeerHandler(BaseHTTPRequestHandler):
    """Turns each HTTP request into a :class:`Request` for the platform's router."""

    protocol_version = "HTTP/1.1"  # keep-alive, as a real platform behind a proxy
    # Headers and body go out in separate writes: without TCP_NODELAY the client's delayed
    # ACK adds ~40 ms to every response.
    disable_nagle_algorithm = True
    server_version = "OpenedxLtiPeer/1.0"
    platform: Platform  # set on the subclass built in main()

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        """Read, apply faults, route, answer; any crash becomes a logged 500."""
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        clear_request_cache()
        self.platform.count_request(path)
        fault = self.platform.take_fault(path)
        if fault is not None:
            log.info("fault %s on %s %s", fault.kind, self.command, path)
            if fault.kind == "close":
                # Drop the connection without a status line: the client sees a reset.
                self.close_connection = True
                return
            if fault.kind == "timeout":
                time.sleep(fault.seconds)
            else:
                self._send(error_response(HttpError(fault.status, "injected fault", "fault")))
                return
        request = Request(self.command, path, query, self.headers, body)
        try:
            response = self.platform.router.dispatch(request)
        except HttpError as err:
            log.info("%s %s -> %s %s", self.command, path, err.status, err.message)
            response = error_response(err)
        except Exception as err:  # a peer bug must not look like a tool bug: say so loudly
            log.exception("peer crashed on %s %s", self.command, path)
            response = error_response(HttpError(500, f"peer internal error: {err!r}", "peer_bug"))
        self._send(response)

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. its timeout during an injected delay).
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s " + format, self.address_string(), *args)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, bind, publish the port, serve until signalled."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )

    server = PeerServer((args.host, args.port), PeerHandler)
    port = server.server_address[1]
    handler_cls = type(
        "BoundPeerHandler", (PeerHandler,), {"platform": Platform(f"http://{args.host}:{port}")}
    )
    server.RequestHandlerClass = handler_cls

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if args.port_file:
        # Written atomically so the parent never reads a half-written port.
        tmp = args.port_file.with_suffix(".tmp")
        tmp.write_text(str(port))
        os.replace(tmp, args.port_file)
    log.info("Open edX LTI platform peer listening on http://%s:%s", args.host, port)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
