"""Fixtures of the registration tests: the peer platform reset, a browser of one's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.peers.platform import PlatformPeer
from tests.support.browser import Browser


@pytest.fixture
def peer(platform_peer: PlatformPeer) -> PlatformPeer:
    platform_peer.reset()
    return platform_peer


@pytest.fixture
def browser() -> Iterator[Browser]:
    client = Browser()
    yield client
    client.close()
