"""A real LRS for tests: Ralph (PyPI ``ralph-malph`` 5.1.0) on 127.0.0.1, filesystem backend.

Ralph runs in its own virtual environment, ``<repo>/.peers/ralph-venv`` (created once, reused
while its stamp names the same pinned requirement), so none of its dependencies (FastAPI,
pydantic 2, …) leak into the service's environment.

Workaround of two bugs of the 5.1.0 filesystem backend, without touching installed files: the
server is started as ``uvicorn ralph_fs_patched:app``, a small module written to the peer's temp
directory and put first on its ``PYTHONPATH``. Before importing ``ralph.api`` it:
1. sets ``FSLRSBackend.default_operation_type = APPEND``: 5.1.0 writes in CREATE mode, so every
   POST/PUT after the first one fails with 500 (the statements file exists);
2. wraps ``FSLRSBackend._add_filter_by_verb`` / ``_add_filter_by_activity`` to pass ``str(iri)``:
   the query parameters arrive as pydantic IRI objects and were compared with plain strings, so
   ``?verb=`` and ``?activity=`` never matched anything.
Remove the module once a Ralph release fixes both (then bump ``RALPH_REQUIREMENT``).

Usable without pytest (``with RalphLRS(tmp_dir) as lrs: ...``); the ``ralph_lrs`` fixture at the
bottom starts one server per test session.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
import requests

RALPH_REQUIREMENT = "ralph-malph[cli,lrs]==5.1.0"
REPO_ROOT = Path(__file__).resolve().parents[2]
PEERS_DIR = REPO_ROOT / ".peers"
VENV_DIR = PEERS_DIR / "ralph-venv"
READY_TIMEOUT_S = 30.0

PATCH_MODULE = '''\
"""Serve ralph.api:app with the 5.1.0 filesystem-backend fixes (see tests/peers/ralph.py)."""
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

_by_verb = FSLRSBackend._add_filter_by_verb
_by_activity = FSLRSBackend._add_filter_by_activity


def _add_filter_by_verb(filters, verb_id):
    return _by_verb(filters, str(verb_id) if verb_id else verb_id)


def _add_filter_by_activity(filters, object_id, related):
    return _by_activity(filters, str(object_id) if object_id else object_id, related)


FSLRSBackend._add_filter_by_verb = staticmethod(_add_filter_by_verb)
FSLRSBackend._add_filter_by_activity = staticmethod(_add_filter_by_activity)

from ralph.api import app  # noqa: E402  (imported after the patches on purpose)
'''


class PeerError(RuntimeError):
    """The peer could not be installed or started; the message says where to look."""


def ensure_ralph_venv(venv_dir: Path = VENV_DIR) -> Path:
    """Create Ralph's virtual environment once (idempotent, safe across processes)."""
    stamp = venv_dir / ".ltiservice-stamp"
    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(venv_dir.parent / ".ralph-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second worker waits instead of racing pip
        if stamp.exists() and stamp.read_text() == RALPH_REQUIREMENT:
            return venv_dir
        python = venv_dir / "bin" / "python"
        if not python.exists():
            _run([sys.executable, "-m", "venv", str(venv_dir)], "create Ralph's venv")
        _run(
            [str(python), "-m", "pip", "install", "-q", RALPH_REQUIREMENT, "requests"],
            "install Ralph",
        )
        stamp.write_text(RALPH_REQUIREMENT)
    return venv_dir


def _run(command: list[str], what: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise PeerError(f"could not {what}: {done.stderr.strip()[-2000:]}")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RalphLRS:
    """One Ralph server with its own store, users file and logs under ``work_dir``."""

    username = "ltiservice"
    password = "ralph-test-secret"  # a throwaway credential of a local peer

    def __init__(self, work_dir: Path, venv_dir: Path = VENV_DIR) -> None:
        self.work_dir = work_dir
        self.venv_dir = venv_dir
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        """The xAPI endpoint (``<endpoint>/statements`` is the statements resource)."""
        return f"{self.base_url}/xAPI"

    @property
    def store_file(self) -> Path:
        """The JSON-lines file the filesystem backend appends statements to."""
        return self.work_dir / "store" / "fs_lrs.jsonl"

    def start(self) -> RalphLRS:
        """Install if needed, start uvicorn, wait until it answers (bounded)."""
        ensure_ralph_venv(self.venv_dir)
        for name in ("store", "app", "patch"):
            (self.work_dir / name).mkdir(parents=True, exist_ok=True)
        (self.work_dir / "patch" / "ralph_fs_patched.py").write_text(PATCH_MODULE)
        env = self._env()
        if not (self.work_dir / "auth.json").exists():  # a restart keeps its user
            self._create_user(env)
        self.port = self.port or free_port()  # a restart after stop() keeps its address
        self._log = open(self.work_dir / "uvicorn.log", "ab")  # closed in stop()
        self._process = subprocess.Popen(
            [
                str(self.venv_dir / "bin" / "uvicorn"),
                "ralph_fs_patched:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=self.work_dir,  # Ralph reads a .env in its working folder: keep it ours
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()
        return self

    def _create_user(self, env: dict[str, str]) -> None:
        _run(
            [
                str(self.venv_dir / "bin" / "ralph"),
                "auth",
                "-u",
                self.username,
                "-p",
                self.password,
                "-s",
                "all",
                "-M",
                "mailto:lrs-tests@ltiservice.fr",
                "-w",
            ],
            "create Ralph's user",
            env,
        )

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RALPH_", "PYTHON"))}
        env.update(
            {
                "PYTHONPATH": str(self.work_dir / "patch"),
                "RALPH_RUNSERVER_BACKEND": "fs",
                "RALPH_RUNSERVER_AUTH_BACKENDS": "basic",
                "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.work_dir / "store"),
                "RALPH_AUTH_FILE": str(self.work_dir / "auth.json"),
                "RALPH_HISTORY_FILE": str(self.work_dir / "history.json"),
                "RALPH_APP_DIR": str(self.work_dir / "app"),
            }
        )
        return env

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self.stop()
                raise PeerError(f"Ralph exited at start-up:\n{self.log_tail()}")
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(f"{self.base_url}/__lbheartbeat__", timeout=1).ok:
                    return
            time.sleep(0.1)
        self.stop()
        raise PeerError(f"Ralph not ready after {READY_TIMEOUT_S}s:\n{self.log_tail()}")

    def log_tail(self, size: int = 3000) -> str:
        """The end of uvicorn's log (for failure messages)."""
        path = self.work_dir / "uvicorn.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    def stop(self) -> None:
        """Terminate the server (then kill it if it lingers) and close its log."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> RalphLRS:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stored_statements(self) -> list[dict[str, Any]]:
        """Everything in the store file, in write order (the ground truth for counts)."""
        if not self.store_file.exists():
            return []
        lines = self.store_file.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def count_stored(self, statement_id: str) -> int:
        """How many times one id is in the store (never more than 1 if we behave)."""
        return sum(1 for s in self.stored_statements() if s.get("id") == statement_id)

    def query(self, **params: str) -> list[dict[str, Any]]:
        """GET /xAPI/statements with xAPI filters, following ``more`` links."""
        statements: list[dict[str, Any]] = []
        with requests.Session() as session:
            session.auth = (self.username, self.password)
            session.headers["X-Experience-API-Version"] = "1.0.3"
            url: str | None = f"{self.endpoint}/statements"
            query: dict[str, str] | None = params
            while url:
                response = session.get(url, params=query, timeout=10)
                response.raise_for_status()
                body = response.json()
                statements.extend(body["statements"])
                more = body.get("more")
                url, query = (f"{self.base_url}{more}" if more else None), None
        return statements


@pytest.fixture(scope="session")
def ralph_lrs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RalphLRS]:
    """A running Ralph LRS for the whole session (tests use distinct learners or ids)."""
    with RalphLRS(tmp_path_factory.mktemp("ralph")) as lrs:
        yield lrs
