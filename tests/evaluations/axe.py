"""axe-core for the browser tests: installed once under `.peers/axe`, run inside the page."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
AXE_DIR = REPO / ".peers" / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"


def axe_script() -> Path:
    """Path of axe.min.js, installing the npm package the first time (idempotent)."""
    if not AXE_JS.exists():
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(AXE_DIR), "axe-core@4"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0 or not AXE_JS.exists():
            pytest.fail(f"npm install axe-core failed: {done.stderr[-2000:]}", pytrace=False)
    return AXE_JS


def install_axe(context: Any) -> None:
    """Load axe-core in every page of the context. An init script, because our CSP
    (`script-src 'self'`) rightly refuses the inline tag `add_script_tag` would insert."""
    context.add_init_script(path=str(axe_script()))


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:5])
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def all_violations(page: Any) -> list[str]:
    """axe-core's violations of any impact on the page (frame or page), one line each."""
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:5])
        for v in result["violations"]
    ]
