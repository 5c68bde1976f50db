"""An independent xAPI validator: Learning Locker's ``@learninglocker/xapi-validation`` on node.

The npm package (pinned below) is installed once into ``<repo>/.peers/xapi-validator/``; each
``validate`` call runs one node process (``tests/peers/xapi_validator.js``) over a whole list of
statements. It catches every case the xAPI spec says an LRS must reject, and is stricter than the
spec on timestamps without a zone and on a single object where an array is expected.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict

import pytest

VALIDATOR_PACKAGE = "@learninglocker/xapi-validation@3.0.0"
REPO_ROOT = Path(__file__).resolve().parents[2]
INSTALL_DIR = REPO_ROOT / ".peers" / "xapi-validator"
SCRIPT = Path(__file__).with_name("xapi_validator.js")


class ValidatorError(RuntimeError):
    """node or npm is missing, the install failed, or the script could not run."""


class ValidationWarning(TypedDict):
    """One validation warning: dotted path, warning class (e.g. ``RequiredWarning``), message."""

    path: str
    name: str
    message: str


def ensure_validator(install_dir: Path = INSTALL_DIR) -> Path:
    """Install the pinned npm package once (idempotent, safe across processes)."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise ValidatorError("node and npm are needed for the xAPI validator peer")
    install_dir.mkdir(parents=True, exist_ok=True)
    stamp = install_dir / ".ltiservice-stamp"
    with open(install_dir / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == VALIDATOR_PACKAGE:
            return install_dir
        done = subprocess.run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(install_dir),
                VALIDATOR_PACKAGE,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise ValidatorError(f"npm install failed: {done.stderr.strip()[-2000:]}")
        stamp.write_text(VALIDATOR_PACKAGE)
    return install_dir


class XapiValidator:
    """Runs the validator script against an installed package."""

    def __init__(self, install_dir: Path = INSTALL_DIR) -> None:
        self.install_dir = ensure_validator(install_dir)
        self.node = shutil.which("node") or "node"

    def validate(self, statements: Sequence[dict[str, Any]]) -> list[list[ValidationWarning]]:
        """Warnings per statement, in order (an empty list means valid)."""
        env = {**os.environ, "NODE_PATH": str(self.install_dir / "node_modules")}
        done = subprocess.run(
            [self.node, str(SCRIPT)],
            input=json.dumps(list(statements)),
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise ValidatorError(f"validator failed: {done.stderr.strip()[-2000:]}")
        report: list[list[ValidationWarning]] = json.loads(done.stdout)
        if len(report) != len(statements):
            raise ValidatorError("validator answered for a different number of statements")
        return report


@pytest.fixture(scope="session")
def xapi_validator() -> XapiValidator:
    """Learning Locker's xAPI validator, installed once per checkout."""
    return XapiValidator()
