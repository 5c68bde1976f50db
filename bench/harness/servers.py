"""Gunicorn servers under test, and the CPU time their processes spent (from /proc)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from harness.platform import free_port, wait_for

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
VENV_BIN = Path(sys.executable).parent


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _cpu_ticks(pid: int) -> int:
    """utime + stime of one process (fields 14 and 15 of /proc/<pid>/stat)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may contain spaces
    return int(fields[11]) + int(fields[12])


class Gunicorn:
    """`gunicorn -w N app` on a free loopback port; CPU of the master and its workers."""

    def __init__(self, app: str, env: dict[str, str], cwd: Path, workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._argv = [
            str(VENV_BIN / "gunicorn"),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{self.port}",
            "--log-level",
            "warning",
            app,
        ]
        self.env = env
        self._cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None
        self.log = cwd / f"gunicorn-{self.port}.log"

    def start(self, probe_path: str) -> None:
        with self.log.open("wb") as log:
            self._proc = subprocess.Popen(
                self._argv, env=self.env, cwd=self._cwd, stdout=log, stderr=log
            )
        wait_for(self.url + probe_path)

    def pids(self) -> list[int]:
        assert self._proc is not None
        return [self._proc.pid, *_children(self._proc.pid)]

    def cpu_ms(self) -> float:
        """CPU milliseconds (user + system) spent so far by the master and live workers."""
        return sum(_cpu_ticks(pid) for pid in self.pids()) * 1000.0 / CLOCK_TICKS

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.send_signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
