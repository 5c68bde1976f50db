"""Scans every log line the whole suite produced for personal data and secrets.

A handler on the root logger keeps the service's and the web server's lines (formatted as
they would be written). When the session ends, the lines are searched for e-mail addresses,
JWTs, bearer tokens, private-key material and the people's names the tests use (collected
from the test sources, so a new test's names are covered without a list to maintain). Any
hit fails the run and is printed with its logger.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
_NAME_LITERAL = re.compile(r"""name=f?["']([A-ZÉÈ][\w'-]+(?: [A-ZÉÈ][\w'-]+)+)["']""")
_SECRETS = {
    "e-mail": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),
    "JWT": re.compile(r"eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]*"),
    "bearer token": re.compile(r"Bearer\s+[\w.~+/-]{8,}", re.IGNORECASE),
    "private key": re.compile(r"BEGIN (?:RSA )?PRIVATE KEY"),
    "registration token": re.compile(r"registration_token=[^&\s\"]{4,}"),
    "registration link": re.compile(r"/lti/register/[A-Za-z0-9_-]{16,}"),
}


def _names() -> set[str]:
    names: set[str] = set()
    for source in TESTS.rglob("*.py"):
        names.update(_NAME_LITERAL.findall(source.read_text(encoding="utf-8")))
    return names


class _Keeper(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[str, str]] = []
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append((record.name, self.format(record)))
        except Exception:
            return


_KEEPER = _Keeper()


def keep(logger: str, lines: list[str]) -> None:
    """Lines another process wrote (a gunicorn's access log file), scanned with the rest."""
    _KEEPER.lines.extend((logger, line) for line in lines)


def pytest_sessionstart(session: pytest.Session) -> None:
    logging.getLogger().addHandler(_KEEPER)


def findings(lines: list[tuple[str, str]], names: set[str]) -> list[str]:
    """Every (logger, what, excerpt) hit in the kept lines."""
    hits = []
    for logger, line in lines:
        if not (
            logger.startswith("ltiservice")
            or logger.startswith("werkzeug")
            or logger.startswith("gunicorn")
        ):
            continue
        for what, pattern in _SECRETS.items():
            if pattern.search(line):
                hits.append(f"{logger}: {what}: {line[:160]}")
        for name in names:
            if name in line:
                hits.append(f"{logger}: name {name!r}: {line[:160]}")
    return hits


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    logging.getLogger().removeHandler(_KEEPER)
    hits = findings(_KEEPER.lines, _names())
    if hits:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("Personal data or secrets found in the suite's logs:", red=True)
            for hit in hits[:50]:
                reporter.write_line(f"  {hit}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
