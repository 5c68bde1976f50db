"""The tool's RSA keys: generated, rotated and published without ever breaking a platform.

Keys live in a folder outside git (the instance folder by default): one PEM file per key,
mode 0600, and `keyring.json` saying which key signs (`current`), which is still published
for platforms that cached it (`previous`) and which are retired.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


class ToolKeyError(Exception):
    """The key folder is missing, unreadable or inconsistent."""


@dataclass(frozen=True)
class ToolKey:
    kid: str
    state: str  # current | previous | retired
    created_at: str
    private_pem: bytes

    def public_jwk(self) -> dict[str, Any]:
        private = serialization.load_pem_private_key(self.private_pem, password=None)
        public = private.public_key()
        if not isinstance(public, rsa.RSAPublicKey):
            raise ToolKeyError(f"tool key {self.kid} is not an RSA key")
        numbers = public.public_numbers()
        return {
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": self.kid,
            "n": _b64uint(numbers.n),
            "e": _b64uint(numbers.e),
        }


def _b64uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class KeyRing:
    """The key folder: read on demand, written atomically."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        # Every launch asks for the current key: keep what was read, keyed by the index
        # file's identity, so another process's rotation (an atomic replace) is seen at once.
        self._cached: tuple[tuple[int, int, int], list[ToolKey]] | None = None

    @property
    def _index(self) -> Path:
        return self.folder / "keyring.json"

    def _entries(self) -> list[dict[str, str]]:
        if not self._index.exists():
            return []
        try:
            return list(json.loads(self._index.read_text()))
        except (OSError, ValueError) as exc:
            raise ToolKeyError(f"{self._index}: unreadable key index ({exc})") from exc

    def _write_entries(self, entries: list[dict[str, str]]) -> None:
        tmp = self._index.with_suffix(".tmp")
        tmp.write_text(json.dumps(entries, indent=2))
        os.replace(tmp, self._index)

    def keys(self) -> list[ToolKey]:
        try:
            stat = self._index.stat()
        except FileNotFoundError:
            return []
        version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if self._cached is not None and self._cached[0] == version:
            return list(self._cached[1])
        result = self._read_keys()
        self._cached = (version, result)
        return list(result)

    def _read_keys(self) -> list[ToolKey]:
        result = []
        for entry in self._entries():
            path = self.folder / f"{entry['kid']}.pem"
            try:
                pem = path.read_bytes()
            except OSError as exc:
                raise ToolKeyError(f"{path}: private key missing ({exc.strerror})") from exc
            result.append(ToolKey(entry["kid"], entry["state"], entry["created_at"], pem))
        return result

    def current(self) -> ToolKey:
        for key in self.keys():
            if key.state == "current":
                return key
        raise ToolKeyError(f"no current tool key in {self.folder}: run `ltiservice keys generate`")

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """Current and previous public keys: platforms that cached either keep working."""
        return {"keys": [k.public_jwk() for k in self.keys() if k.state in {"current", "previous"}]}

    def generate(self) -> ToolKey:
        """Create the first key; refuses when a current key exists (use rotate)."""
        if any(k.state == "current" for k in self.keys()):
            raise ToolKeyError("a current key already exists: use `ltiservice keys rotate`")
        return self._add_current()

    def ensure(self) -> ToolKey:
        """The current key, generated on first start of the embedded default."""
        if any(k.state == "current" for k in self.keys()):
            return self.current()
        return self._add_current()

    def rotate(self) -> ToolKey:
        """New current key; the old current stays published as previous, older ones retire."""
        entries = self._entries()
        for entry in entries:
            if entry["state"] == "previous":
                entry["state"] = "retired"
            elif entry["state"] == "current":
                entry["state"] = "previous"
        self._write_entries(entries)
        return self._add_current()

    def retire_previous(self) -> list[str]:
        """Stop publishing previous keys once platforms have refreshed their cache."""
        entries = self._entries()
        retired = [e["kid"] for e in entries if e["state"] == "previous"]
        for entry in entries:
            if entry["state"] == "previous":
                entry["state"] = "retired"
        self._write_entries(entries)
        return retired

    def _add_current(self) -> ToolKey:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        kid = datetime.now(UTC).strftime("%Y%m%d") + "-" + secrets.token_hex(4)
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(self.folder / f"{kid}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        entries = self._entries()
        created = datetime.now(UTC).isoformat()
        entries.append({"kid": kid, "state": "current", "created_at": created})
        self._write_entries(entries)
        return ToolKey(kid, "current", created, pem)
