"""Fixtures of the grading-core tests: the DEMO referential and test plugins by entry point."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
import yaml

from ltiservice.grading import loader
from ltiservice.grading.referential import Referential
from ltiservice.grading.schema import parse_referential

FIXTURES = Path(__file__).parent / "fixtures"
DEMO_PACKAGE = FIXTURES / "ltiservice_fixture_plugins"
DEMO_2024 = DEMO_PACKAGE / "demo-2024.yaml"


@pytest.fixture
def demo_data() -> dict[str, Any]:
    """A fresh, mutable copy of the valid DEMO referential as YAML gives it."""
    data: dict[str, Any] = yaml.safe_load(DEMO_2024.read_text(encoding="utf-8"))
    return data


@pytest.fixture
def demo() -> Referential:
    """The DEMO referential, current version."""
    return parse_referential(DEMO_2024.read_text(encoding="utf-8"))


@pytest.fixture
def fixture_plugins(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[EntryPoint]]:
    """Make the test plugin package importable; return a builder of its entry points."""
    monkeypatch.syspath_prepend(str(FIXTURES))

    def entry_points(*names: str, module: str = "ltiservice_fixture_plugins") -> list[EntryPoint]:
        return [EntryPoint(name, f"{module}:{name}", loader.ENTRY_POINT_GROUP) for name in names]

    return entry_points


@pytest.fixture
def installed(
    monkeypatch: pytest.MonkeyPatch, fixture_plugins: Callable[..., list[EntryPoint]]
) -> Iterator[Callable[..., None]]:
    """Pretend the given test plugins are the installed ones, with a clean loader cache."""
    calls: list[str] = []

    def install(*names: str) -> None:
        def fake_entry_points(group: str) -> list[EntryPoint]:
            calls.append(group)
            return fixture_plugins(*names)

        monkeypatch.setattr(loader, "entry_points", fake_entry_points)
        loader.reset_plugins()

    install.calls = calls  # type: ignore[attr-defined]
    yield install
    loader.reset_plugins()
