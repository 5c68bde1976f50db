"""A minimal LTI 1.3 platform for load: its own RSA key, a JWKS served over HTTP, id_tokens.

The JWKS is a static file served by `python -m http.server` in its own process, so a tool
that fetches it on every launch (pylti1p3's example) pays a real loopback HTTP round trip and
the harness's own CPU is not spent answering it. The platform's authorisation endpoint is
never requested: the harness reads the tool's redirect to it (state, nonce, redirect_uri) and
answers as the platform would, with a signed id_token form-posted back to the tool.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://platform.bench.invalid"
CLIENT_ID = "bench-client"
DEPLOYMENT_ID = "bench-deployment"
CONTEXT_ID = "bench-course"
RESOURCE_LINK_ID = "bench-link"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, timeout_s: float = 30.0) -> None:
    """Poll `url` until it answers (any status), or fail loudly."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            requests.get(url, timeout=5, allow_redirects=False)
            return
        except (requests.ConnectionError, requests.Timeout):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout_s} s") from None
            time.sleep(0.1)


class BenchPlatform:
    """The platform's key, its JWKS server and the id_tokens it signs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.kid = "bench-" + secrets.token_hex(4)
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.port = free_port()
        self._server: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def jwks_url(self) -> str:
        return f"{self.base}/jwks.json"

    @property
    def auth_login_url(self) -> str:
        return f"{self.base}/authorize"

    @property
    def auth_token_url(self) -> str:
        return f"{self.base}/token"

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        public.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [public]}

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "jwks.json").write_text(json.dumps(self.jwks()))
        self._server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1"],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.jwks_url)

    def stop(self) -> None:
        if self._server is not None:
            self._server.terminate()
            self._server.wait(timeout=10)

    def login_params(self, target_link_uri: str, user: str) -> dict[str, str]:
        """Third-party initiated login, as the platform form-posts it to the tool."""
        return {
            "iss": ISSUER,
            "login_hint": user,
            "target_link_uri": target_link_uri,
            "lti_message_hint": RESOURCE_LINK_ID,
            "client_id": CLIENT_ID,
            "lti_deployment_id": DEPLOYMENT_ID,
        }

    def id_token(self, user: str, nonce: str, target_link_uri: str) -> str:
        """A resource-link launch with AGS and NRPS claims, signed with the platform key."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "azp": CLIENT_ID,
            "sub": user,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": f"Apprenant {user}",
            "email": f"{user}@example.invalid",
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": DEPLOYMENT_ID,
            CLAIM + "target_link_uri": target_link_uri,
            CLAIM + "roles": [LEARNER],
            CLAIM + "resource_link": {"id": RESOURCE_LINK_ID, "title": "Étude de cas B2B"},
            CLAIM + "context": {"id": CONTEXT_ID, "title": "CQP CRCA 2026", "label": "CRCA"},
            CLAIM + "tool_platform": {"guid": "bench-platform", "name": "Bench platform"},
            AGS: {
                "scope": [
                    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                ],
                "lineitems": f"{self.base}/ags/{CONTEXT_ID}/lineitems",
                "lineitem": f"{self.base}/ags/{CONTEXT_ID}/lineitems/1",
            },
            NRPS: {
                "context_memberships_url": f"{self.base}/nrps/{CONTEXT_ID}/memberships",
                "service_versions": ["2.0"],
            },
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})
