"""A real LTI 1.3 platform for tests: Open edX's LTI consumer (``lti-consumer-xblock``).

``lti-consumer-xblock`` is AGPL-3.0, so it is TEST-ONLY: it lives in its own virtual
environment, ``<repo>/.peers/openedx-venv`` (created once, reused while its stamp matches the
pinned ``tests/peers/openedx/requirements.txt``), and runs as a separate process on 127.0.0.1
(``tests/peers/openedx/server.py``). Neither the service nor this module imports it: here we
only speak HTTP (stdlib + requests).

Usable without pytest (``with OpenedxPlatform(tmp_dir) as proc: PlatformPeer(proc.base_url)``);
the session-scoped ``platform_peer`` fixture at the bottom starts one server per test session
(set ``LTISERVICE_OPENEDX_PEER_URL`` to use one already running). The peer's state is shared
by the session: call :meth:`PlatformPeer.reset` at the start of a test that counts anything.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
PEER_SRC = Path(__file__).resolve().parent / "openedx"
REQUIREMENTS = PEER_SRC / "requirements.txt"
PEERS_DIR = REPO_ROOT / ".peers"
VENV_DIR = PEERS_DIR / "openedx-venv"
LTI_CONSUMER_PIN = "lti-consumer-xblock==11.4.4"
READY_TIMEOUT_S = 60.0
INSTALL_TIMEOUT_S = 900.0
URL_ENV = "LTISERVICE_OPENEDX_PEER_URL"


class PeerError(RuntimeError):
    """The peer could not be installed or started; the message says where to look."""


class PeerRequestError(RuntimeError):
    """An admin call to the peer failed; carries the HTTP status and the body."""

    def __init__(self, status: int, body: Any, what: str) -> None:
        super().__init__(f"{what}: HTTP {status}: {body}")
        self.status = status
        self.body = body


# ---------------------------------------------------------------------------- install


def _stamp() -> str:
    """What the venv was built from: the requirements file and this interpreter."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    return f"{digest} {sys.version.split()[0]} {LTI_CONSUMER_PIN}\n"


def venv_python(venv_dir: Path = VENV_DIR) -> Path:
    """The peer venv's interpreter."""
    return venv_dir / "bin" / "python"


def ensure_openedx_venv(venv_dir: Path = VENV_DIR) -> Path:
    """Create the peer's virtual environment once (idempotent, safe across processes).

    Returns the venv's python. The stamp file is written last, so an interrupted install is
    redone from scratch next time.
    """
    if LTI_CONSUMER_PIN not in REQUIREMENTS.read_text():
        raise PeerError(f"{REQUIREMENTS} does not pin {LTI_CONSUMER_PIN}")
    stamp = venv_dir / ".ltiservice-stamp"
    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(venv_dir.parent / ".openedx-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second worker waits instead of racing pip
        if stamp.exists() and stamp.read_text() == _stamp() and venv_python(venv_dir).exists():
            return venv_python(venv_dir)
        shutil.rmtree(venv_dir, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(venv_dir)], "create the venv")
        _run(
            [
                str(venv_python(venv_dir)),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                "-r",
                str(REQUIREMENTS),
            ],
            "install lti-consumer-xblock",
        )
        stamp.write_text(_stamp())
    return venv_python(venv_dir)


def _run(command: list[str], what: str) -> None:
    """Run an install step; raise :class:`PeerError` with its output on failure."""
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as err:
        raise PeerError(f"could not {what}: timed out after {INSTALL_TIMEOUT_S} s") from err
    if done.returncode != 0:
        raise PeerError(
            f"could not {what} ({' '.join(command)}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )


# ---------------------------------------------------------------------------- process


class OpenedxPlatform:
    """The peer server process: start, wait until ready, stop."""

    def __init__(self, work_dir: Path | None = None, venv_dir: Path = VENV_DIR) -> None:
        self.work_dir = Path(work_dir or tempfile.mkdtemp(prefix="openedx-peer-"))
        self.venv_dir = venv_dir
        self.log_path = self.work_dir / "openedx-peer.log"
        self.port_file = self.work_dir / "port"
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def start(self) -> OpenedxPlatform:
        """Install if needed, spawn ``server.py`` on a free port, wait until it answers."""
        python = ensure_openedx_venv(self.venv_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.port_file.unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(python),
                    str(PEER_SRC / "server.py"),
                    "--port",
                    "0",
                    "--port-file",
                    str(self.port_file),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.work_dir,
                env=env,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        """Poll the port file, then ``/admin/info`` (bounded by READY_TIMEOUT_S)."""
        assert self.process is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PeerError(f"peer exited with {self.process.returncode}:\n{self.log_tail()}")
            if self.port_file.exists():
                self.base_url = f"http://127.0.0.1:{int(self.port_file.read_text())}"
                with contextlib.suppress(requests.RequestException):
                    if requests.get(f"{self.base_url}/admin/info", timeout=2).ok:
                        return
            time.sleep(0.1)
        raise PeerError(f"peer not ready after {READY_TIMEOUT_S} s:\n{self.log_tail()}")

    def log_tail(self, size: int = 4000) -> str:
        """The end of the peer's log, for failure messages."""
        if not self.log_path.exists():
            return "(no log)"
        return self.log_path.read_bytes()[-size:].decode("utf-8", errors="replace")

    def stop(self) -> None:
        """Terminate, then kill if it does not exit within 10 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> OpenedxPlatform:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# ---------------------------------------------------------------------------- client


class PlatformPeer:
    """Test-side client of the peer's admin and platform endpoints."""

    def __init__(self, base_url: str, log_path: Path | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.log_path = log_path
        self.timeout = timeout
        self.session = requests.Session()
        info = self.info()
        self.issuer: str = info["issuer"]
        self.jwks_url: str = info["jwks_url"]
        self.key_set_url: str = info["key_set_url"]
        self.auth_login_url: str = info["auth_login_url"]
        self.auth_token_url: str = info["auth_token_url"]
        self.deep_link_return_url: str = info["deep_link_return_url"]
        self.openid_configuration_url: str = info["openid_configuration_url"]

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()

    # -- plumbing

    def _call(
        self, method: str, path: str, what: str, json: Any = None, ok: tuple[int, ...] = (200,)
    ) -> Any:
        response = self.session.request(
            method, f"{self.base_url}{path}", json=json, timeout=self.timeout
        )
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.status_code not in ok:
            raise PeerRequestError(response.status_code, body, what)
        return body

    def url(self, path: str) -> str:
        """Absolute URL of a peer path."""
        return f"{self.base_url}{path}"

    # -- configuration

    def info(self) -> dict[str, Any]:
        """``GET /admin/info``: issuer, endpoints, current tool and kid."""
        return self._call("GET", "/admin/info", "info")

    def configure_tool(
        self,
        *,
        client_id: str,
        deployment_id: str,
        login_url: str,
        launch_url: str,
        redirect_uris: list[str] | None = None,
        jwks_url: str = "",
        deep_link_launch_url: str | None = None,
    ) -> dict[str, Any]:
        """Register (or re-register) the one tool this platform knows."""
        return self._call(
            "POST",
            "/admin/tool",
            "configure_tool",
            {
                "client_id": client_id,
                "deployment_id": deployment_id,
                "login_url": login_url,
                "launch_url": launch_url,
                "redirect_uris": redirect_uris or [launch_url],
                "jwks_url": jwks_url,
                "deep_link_launch_url": deep_link_launch_url or launch_url,
            },
        )

    def reset(self) -> None:
        """Forget launches, line items, scores, members, deep links, faults and counters."""
        self._call("POST", "/admin/reset", "reset")

    # -- launches

    def start_launch(
        self,
        user: dict[str, Any],
        *,
        message_type: str = "LtiResourceLinkRequest",
        context: dict[str, Any] | None = None,
        resource_link: dict[str, Any] | None = None,
        custom: dict[str, str] | None = None,
        ags: bool = False,
        nrps: bool = False,
        target_link_uri: str | None = None,
        for_user: dict[str, Any] | None = None,
        deep_linking: dict[str, Any] | None = None,
        lineitem: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Store a launch; return where the browser goes (the tool's OIDC login initiation).

        ``user`` = ``{sub, name?, email?, roles: [LTI role URIs]}``. The answer has
        ``login_url`` + ``login_params`` (GET or POST them), ``preflight_url`` (the same as one
        GET URL), ``launch_page_url`` (a peer page that POSTs them, Moodle-style),
        ``lti_message_hint`` and, for deep linking, ``deep_linking_data``.
        """
        spec: dict[str, Any] = {
            "message_type": message_type,
            "user": user,
            "ags": ags,
            "nrps": nrps,
            **extra,
        }
        optional = {
            "context": context,
            "resource_link": resource_link,
            "custom": custom,
            "target_link_uri": target_link_uri,
            "for_user": for_user,
            "deep_linking": deep_linking,
            "lineitem": lineitem,
        }
        spec.update({k: v for k, v in optional.items() if v is not None})
        return self._call("POST", "/admin/launch", "start_launch", spec)

    def authorize_raw(
        self, params: dict[str, str], method: str = "GET", accept_json: bool = True
    ) -> requests.Response:
        """Call ``/authorize`` as the browser would, returning the raw response."""
        headers = {"Accept": "application/json"} if accept_json else {}
        if method == "GET":
            return self.session.get(
                self.auth_login_url, params=params, headers=headers, timeout=self.timeout
            )
        return self.session.post(
            self.auth_login_url, data=params, headers=headers, timeout=self.timeout
        )

    def authorize(self, params: dict[str, str], method: str = "GET") -> dict[str, str]:
        """The OIDC auth request in JSON mode: ``{action, id_token, state}``."""
        response = self.authorize_raw(params, method)
        if response.status_code != 200:
            raise PeerRequestError(response.status_code, response.text, "authorize")
        return response.json()

    # -- signing and keys

    def sign(
        self, claims: dict[str, Any], headers: dict[str, Any] | None = None, key: str = "current"
    ) -> str:
        """Any claims, RS256-signed with the platform's ``current`` or ``previous`` key.

        ``headers`` are merged over ``{"kid": <key's kid>}``; a ``None`` value removes one.
        """
        return self._call(
            "POST", "/admin/sign", "sign", {"claims": claims, "headers": headers or {}, "key": key}
        )["jwt"]

    def forge_id_token(
        self,
        lti_message_hint: str,
        nonce: str,
        overrides: dict[str, Any] | None = None,
        key: str = "current",
    ) -> str:
        """A library-built launch id_token re-signed with ``overrides`` (``None`` deletes)."""
        return self._call(
            "POST",
            "/admin/id_token",
            "forge_id_token",
            {
                "lti_message_hint": lti_message_hint,
                "nonce": nonce,
                "overrides": overrides or {},
                "key": key,
            },
        )["id_token"]

    def jwks(self) -> dict[str, Any]:
        """``GET /jwks``."""
        return self._call("GET", "/jwks", "jwks")

    def rotate_keys(self) -> dict[str, Any]:
        """New current key; the previous stays published: ``{current_kid, previous_kid}``."""
        return self._call("POST", "/admin/rotate_keys", "rotate_keys")

    def retire_previous_key(self) -> dict[str, Any]:
        """Stop publishing the previous key."""
        return self._call("POST", "/admin/retire_previous_key", "retire_previous_key")

    # -- services

    def set_members(
        self, context_id: str, members: list[dict[str, Any]], context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Roster for NRPS: ``[{user_id, name?, email?, roles: [...], status?}]``."""
        body: dict[str, Any] = {"context_id": context_id, "members": members}
        if context is not None:
            body["context"] = context
        return self._call("POST", "/admin/members", "set_members", body)

    def scores(self) -> list[dict[str, Any]]:
        """Every accepted score: ``[{context_id, line_item_id, line_item, score, ...}]``."""
        return self._call("GET", "/admin/scores", "scores")

    def line_items(self, context: str | None = None) -> list[dict[str, Any]]:
        """Line items of a context (all contexts when ``None``)."""
        query = f"?context_id={quote(context, safe='')}" if context else ""
        return self._call("GET", f"/admin/line_items{query}", "line_items")

    def deep_links(self) -> list[dict[str, Any]]:
        """Accepted deep-linking responses: ``[{content_items, data, msg, claims, ...}]``."""
        return self._call("GET", "/admin/deep_links", "deep_links")

    def stats(self) -> dict[str, Any]:
        """``{tokens_issued, requests_by_path}`` since start or the last reset."""
        return self._call("GET", "/admin/stats", "stats")

    # -- registration and faults

    def registration_token(self) -> dict[str, Any]:
        """A one-time registration token (valid 1 h).

        ``{token, openid_configuration_url, registration_params}``; ``registration_params`` is
        the query to open the tool's registration URL with.
        """
        return self._call("POST", "/admin/registration_token", "registration_token")

    def registrations(self) -> list[dict[str, Any]]:
        """Dynamic registrations accepted so far (each with its ``client_id``)."""
        return self._call("GET", "/admin/registrations", "registrations")

    def set_fault(
        self,
        path_prefix: str,
        status: int | str = 500,
        count: int = 1,
        seconds: float | None = None,
    ) -> dict[str, Any]:
        """Fail the next ``count`` requests under ``path_prefix``.

        ``status`` is an HTTP status, ``"timeout"`` (sleep ``seconds``, default 10, then answer
        normally) or ``"close"`` (drop the connection without answering).
        """
        body: dict[str, Any] = {"path_prefix": path_prefix, "status": status, "count": count}
        if seconds is not None:
            body["seconds"] = seconds
        return self._call("POST", "/admin/faults", "set_fault", body)

    def clear_faults(self) -> None:
        """Remove every pending fault."""
        self._call("DELETE", "/admin/faults", "clear_faults")


# ---------------------------------------------------------------------------- fixture


@pytest.fixture(scope="session")
def platform_peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformPeer]:
    """One Open edX platform peer per test session (or the one at $LTISERVICE_OPENEDX_PEER_URL)."""
    if os.environ.get(URL_ENV):
        peer = PlatformPeer(os.environ[URL_ENV])
        yield peer
        peer.close()
        return
    with OpenedxPlatform(tmp_path_factory.mktemp("openedx-peer")) as proc:
        peer = PlatformPeer(proc.base_url, log_path=proc.log_path)
        yield peer
        peer.close()
