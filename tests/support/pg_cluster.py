"""A PostgreSQL cluster of the test's own, for tests that restart or break the server.

The machine's PostgreSQL (127.0.0.1:5432) serves other people too: no test may restart, stop or
reconfigure it. `OwnPostgres` runs `initdb` in a temporary folder and starts that cluster on a
free port of 127.0.0.1 (its socket in the same folder), so a restart test restarts only it.
PostgreSQL refuses to run as root: as root, the folder is given to the ``postgres`` user and
every `initdb` / `pg_ctl` runs as that user (``runuser``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from tests.support.live_server import free_port

SERVER_USER = "postgres"
PG_TIMEOUT_S = 60


class ClusterError(RuntimeError):
    """The throwaway cluster could not be created or (re)started; the log tail says why."""


def pg_bin_dir() -> Path | None:
    """The newest PostgreSQL server binaries installed (Debian layout, then PATH)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def unavailable_reason() -> str | None:
    """Why a throwaway cluster cannot run here (None: it can)."""
    if pg_bin_dir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root without a {SERVER_USER!r} user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root without runuser"
    return None


class OwnPostgres:
    """``initdb`` + ``pg_ctl`` on a temporary folder and a free port; removed on exit."""

    def __init__(self) -> None:
        bin_dir = pg_bin_dir()
        if bin_dir is None:
            raise ClusterError("PostgreSQL server binaries not found")
        self._bin = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="ltiservice-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the cluster's ``postgres`` database (trust auth, TCP)."""
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self._bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=PG_TIMEOUT_S, check=False
        )
        if done.returncode != 0:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise ClusterError(f"{args[0]} failed: {done.stderr.strip()[-1000:]}\n{tail}")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl", action, "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, *extra
        )

    def start(self) -> OwnPostgres:
        """Create the cluster (trust auth for its own superuser) and start it."""
        if os.geteuid() == 0:
            account = pwd.getpwnam(SERVER_USER)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", SERVER_USER, "-A", "trust", "-E", "UTF8",
            "--no-sync", "--locale=C.UTF-8",
        )  # fmt: skip
        self._pg_ctl("start")
        return self

    def restart(self) -> None:
        """Restart the server (fast shutdown: every connection is cut, as in production)."""
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        """Stop the server at once, then remove its folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> OwnPostgres:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
