"""Platform signing keys with rotation, built on the library's ``PlatformKeyHandler``.

Glue: Open edX keeps a single key per configuration, so publishing a previous key during a
rotation (and verifying our own access tokens with either) is ours.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti_consumer.lti_1p3.key_handlers import PlatformKeyHandler


@dataclass(frozen=True)
class PlatformKey:
    """One RSA key pair of the platform."""

    kid: str
    private_pem: str

    @cached_property
    def handler(self) -> PlatformKeyHandler:
        """The library's signer/verifier for this key.

        Cached: the library parses and validates the PEM on construction (~50 ms for RSA-2048).
        """
        return PlatformKeyHandler(self.private_pem, self.kid)

    @cached_property
    def public_jwks(self) -> list[dict[str, Any]]:
        """The public JWK(s), as the library exports them."""
        return list(self.handler.get_public_jwk()["keys"])


def new_key() -> PlatformKey:
    """A fresh RSA-2048 key with a unique, time-ordered kid."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return PlatformKey(kid=f"peer-{int(time.time())}-{secrets.token_hex(4)}", private_pem=pem)


class KeyRing:
    """Current key plus, during a rotation, the previous one (both published)."""

    def __init__(self) -> None:
        self.current = new_key()
        self.previous: PlatformKey | None = None

    def rotate(self) -> PlatformKey:
        """Make a new key current; the old one stays published until :meth:`retire_previous`."""
        self.previous, self.current = self.current, new_key()
        return self.current

    def retire_previous(self) -> None:
        """Stop publishing the previous key."""
        self.previous = None

    def published(self) -> list[PlatformKey]:
        """Keys in the JWKS, current first."""
        return [self.current] + ([self.previous] if self.previous else [])

    def pick(self, which: str) -> PlatformKey:
        """``current`` or ``previous`` (400-worthy ``ValueError`` when absent)."""
        if which == "current":
            return self.current
        if which == "previous" and self.previous is not None:
            return self.previous
        raise ValueError(f"no {which!r} key (use 'current', or 'previous' after a rotation)")

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JWKS document."""
        return {"keys": [jwk for key in self.published() for jwk in key.public_jwks]}
