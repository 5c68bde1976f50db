"""Adapters between pylti1p3's storage/cookie interfaces and our shared store."""

from __future__ import annotations

import re
from typing import Any

from pylti1p3.cookie import CookieService
from pylti1p3.launch_data_storage.base import LaunchDataStorage

from ltiservice.lti.store import SharedStore


class SharedLaunchDataStorage(LaunchDataStorage[Any]):
    """pylti1p3 launch data (state params, nonces, launch bodies) in the shared store.

    Keys are random state and nonce values, so no per-browser session prefix is needed; the
    state is bound to the browser by its cookie (or by platform storage).
    """

    def __init__(self, store: SharedStore, default_ttl_s: int) -> None:
        super().__init__()
        self.store = store
        self._default_ttl_s = default_ttl_s

    def get_session_cookie_name(self) -> str | None:
        return None

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str) -> Any:
        return self.store.get(self._prepare_key(key))

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        self.store.set(self._prepare_key(key), value, exp or self._default_ttl_s)

    def check_value(self, key: str) -> bool:
        return self.store.get(self._prepare_key(key)) is not None

    def pop_value(self, key: str) -> Any:
        """Take the value out: used for nonces, which are good for one launch only."""
        return self.store.pop(self._prepare_key(key))


class SecureCookieService(CookieService):
    """Cookies a browser keeps inside an LMS iframe: Secure, SameSite=None, HttpOnly."""

    def __init__(self, request: Any) -> None:
        self._request = request
        self._to_set: dict[str, tuple[str, int | None]] = {}

    def _get_key(self, key: str) -> str:
        return f"{self._cookie_prefix}-{key}"

    def get_cookie(self, name: str) -> str | None:
        return self._request.get_cookie(self._get_key(name))  # type: ignore[no-any-return]

    def set_cookie(self, name: str, value: str | int, exp: int | None = 3600) -> None:
        self._to_set[self._get_key(name)] = (str(value), exp)

    def update_response(self, response: Any) -> None:
        for key, (value, max_age) in self._to_set.items():
            response.set_cookie(
                key,
                value,
                max_age=max_age,
                path="/",
                secure=True,
                httponly=True,
                samesite="None",
            )


# -- LTI platform storage (1EdTech "Client Side postMessages") ------------------------------

_STORAGE_TARGET = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_STORAGE_PREFIX = "lti-storage-state-"


def storage_target(value: str | None) -> str | None:
    """The `lti_storage_target` a platform announced (`_parent` or a frame name), if valid."""
    if value and _STORAGE_TARGET.match(value):
        return value
    return None


def remember_storage_state(store: SharedStore, state: str, nonce: str, ttl_s: int) -> None:
    """Keep a state issued for platform storage, with its nonce, until its one launch."""
    store.set(_STORAGE_PREFIX + state, {"nonce": nonce}, ttl_s)


def take_storage_state(store: SharedStore, state: str) -> str | None:
    """The nonce issued with `state`, taken out so the state serves one launch only."""
    record = store.pop(_STORAGE_PREFIX + state)
    return record.get("nonce") if isinstance(record, dict) else None
