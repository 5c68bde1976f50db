"""Discover the installed certification plugins and check them before the app serves anything.

Plugins register a `CertificationPlugin` in the entry-point group ``ltiservice.plugins``.
`load_plugins` imports each one, reads and validates every referential file, and raises
`PluginError` naming the plugin, the file and the field at the first broken plugin: a broken
plugin stops start-up, it is never skipped. `validate_plugin_path` checks a plugin directory or a
referential file that is not installed (``ltiservice plugins validate PATH``).
"""

from __future__ import annotations

import functools
import importlib
import sys
import tomllib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from ltiservice.grading.interface import CertificationPlugin, PluginError
from ltiservice.grading.referential import Referential
from ltiservice.grading.schema import ReferentialError, parse_referential

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginError",
    "load_plugins",
    "reset_plugins",
    "validate_plugin_path",
]

ENTRY_POINT_GROUP = "ltiservice.plugins"


def load_plugins(
    entry_points_: Iterable[EntryPoint] | None = None,
) -> dict[str, CertificationPlugin]:
    """Certification code -> loaded plugin, for every registered plugin.

    Without argument, reads the installed entry points once and caches the result (see
    `reset_plugins`). Tests pass `EntryPoint` objects instead; those are never cached.
    Raises `PluginError` for a plugin that fails to import, is not a `CertificationPlugin`, has a
    missing or invalid referential file, or reuses another plugin's certification code.
    """
    if entry_points_ is None:
        return dict(_installed_plugins())
    return _load(entry_points_)


def reset_plugins() -> None:
    """Forget the cached plugins, so the next `load_plugins()` reads the entry points again."""
    _installed_plugins.cache_clear()


@functools.cache
def _installed_plugins() -> dict[str, CertificationPlugin]:
    return _load(entry_points(group=ENTRY_POINT_GROUP))


def _load(eps: Iterable[EntryPoint]) -> dict[str, CertificationPlugin]:
    plugins: dict[str, CertificationPlugin] = {}
    names: dict[str, str] = {}
    for ep in sorted(eps, key=lambda ep: ep.name):
        plugin = _load_one(ep)
        code = plugin.code
        if code in plugins:
            raise PluginError(
                ep.name,
                f"{plugin.package}/{plugin.files[0]}",
                [f"certification.code: {code!r} is already the code of plugin {names[code]!r}"],
            )
        plugins[code] = plugin
        names[code] = ep.name
    return plugins


def _load_one(ep: EntryPoint) -> CertificationPlugin:
    """Import one entry point and load its referentials, wrapping every failure once."""
    try:
        obj = ep.load()
    except Exception as exc:  # any import-time error of third-party code is the plugin's fault
        raise PluginError(
            ep.name, ep.value, [f"cannot import: {type(exc).__name__}: {exc}"]
        ) from exc
    if not isinstance(obj, CertificationPlugin):
        raise PluginError(
            ep.name,
            ep.value,
            [f"entry point is a {type(obj).__name__}, not a CertificationPlugin instance"],
        )
    return obj.load(ep.name)


def validate_plugin_path(path: str | Path) -> tuple[Referential, ...]:
    """Check a plugin that is not installed, or a single referential file; return what it holds.

    ``path`` is either a referential YAML file (checked alone: links to other versions are not
    checked), or a plugin directory: when its ``pyproject.toml`` declares an entry point in
    ``ltiservice.plugins``, that entry point is imported from the directory and loaded like an
    installed plugin; otherwise every ``*.yaml`` under it is checked together as one plugin.
    Raises `PluginError` naming the file and field of the first problem.
    """
    path = Path(path)
    if path.is_file():
        return (_parse_file(path.stem, path),)
    if not path.is_dir():
        raise PluginError(str(path), None, ["no such file or directory"])
    declared = _declared_entry_points(path)
    if declared:
        with _importable_from(path, {ep.module.split(".")[0] for ep in declared}):
            plugins = _load(declared)
        return tuple(r for plugin in plugins.values() for r in plugin.referentials.values())
    files = sorted(p for p in path.rglob("*.yaml") if not _is_hidden(p, path))
    if not files:
        raise PluginError(path.name, None, ["no entry point in pyproject.toml and no *.yaml"])
    parsed = [(str(file.relative_to(path)), _parse_file(path.name, file)) for file in files]
    plugin = CertificationPlugin.from_referentials(path.name, parsed)
    return tuple(plugin.referentials.values())


def _parse_file(plugin: str, file: Path) -> Referential:
    try:
        return parse_referential(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PluginError(plugin, str(file), [f"cannot read file: {exc}"]) from exc
    except ReferentialError as exc:
        raise PluginError(plugin, str(file), exc.problems) from exc


def _is_hidden(file: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in file.relative_to(root).parts)


def _declared_entry_points(directory: Path) -> list[EntryPoint]:
    pyproject = directory / "pyproject.toml"
    if not pyproject.is_file():
        return []
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except tomllib.TOMLDecodeError as exc:
        raise PluginError(directory.name, str(pyproject), [f"invalid TOML: {exc}"]) from exc
    declared = project.get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
    return [EntryPoint(name, value, ENTRY_POINT_GROUP) for name, value in declared.items()]


@contextmanager
def _importable_from(directory: Path, packages: set[str]) -> Iterator[None]:
    """Import ``packages`` from ``directory`` (flat or src layout), then put things back.

    Copies already imported (an installed release of the same plugin) are set aside meanwhile
    and restored after, so the checked-out copy is the one checked, and it does not shadow the
    installed one for the rest of the process.
    """

    def ours(name: str) -> bool:
        return name.split(".")[0] in packages

    set_aside = {name: module for name, module in sys.modules.items() if ours(name)}
    for name in set_aside:
        del sys.modules[name]
    saved_path = list(sys.path)
    sys.path[:0] = [str(directory / "src"), str(directory)]
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path[:] = saved_path
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(set_aside)
