"""Fixtures of the xAPI tests: the real peers (Ralph LRS, Learning Locker's validator)."""

from __future__ import annotations

from tests.peers.ralph import ralph_lrs  # noqa: F401 - re-exported fixture
