"""The one-way import rules hold: import-linter's contracts (pyproject.toml) and the plugins'."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache", str(REPO / "pyproject.toml")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_plugins_import_only_the_plugin_interface() -> None:
    """A plugin is data plus rules over `ltiservice.grading.interface`, nothing else of ours."""
    offenders = []
    for path in sorted(REPO.glob("plugins/*/ltiservice_cqp_*/*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                ours = name == "ltiservice" or name.startswith("ltiservice.")
                if ours and name != "ltiservice.grading.interface":
                    offenders.append(f"{path.relative_to(REPO)}: {name}")
    assert offenders == []
