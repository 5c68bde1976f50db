"""Access-log lines without secrets, for gunicorn (production) and werkzeug (development).

URLs carry secrets: `/lti/register/<token>` is an operator's registration link, and the
LMS appends `registration_token=…` and `openid_configuration=…` to it; other query strings
carry launch ids. So access logs keep the method, the path with the link token masked, the
status, the size, the user agent and the time, never a query string or a referer.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger
from werkzeug.serving import WSGIRequestHandler

_TOKEN_IN_PATH = re.compile(r"^(/lti/register/)[^/?#]+")
FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(a)s" %(M)sms'


def redact_path(path: str) -> str:
    """The path without its query string, a registration link's token masked."""
    return _TOKEN_IN_PATH.sub(r"\1…", path.split("?", 1)[0])


class AccessLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, with the request line rebuilt from the redacted path."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        path = redact_path(environ.get("PATH_INFO") or "")
        atoms.update(
            {
                "r": f"{atoms['m']} {path} {atoms['H']}",
                "U": path,
                "q": "-",
                "f": "-",
            }
        )
        return {k: v for k, v in atoms.items() if not k.startswith("{")}  # no raw headers


class RedactingRequestHandler(WSGIRequestHandler):
    """werkzeug's development server handler with the same redaction."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        method, _, rest = self.requestline.partition(" ")
        path, _, protocol = rest.rpartition(" ")
        self.log("info", '"%s %s %s" %s %s', method, redact_path(path), protocol, code, size)
