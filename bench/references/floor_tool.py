"""Reference (b): the floor, an LTI 1.3 tool that does the least a launch can do.

Login: a random state (in a cookie) and nonce, then the redirect to the platform. Launch: the
state cookie matches the form's state, and PyJWT verifies the id_token's RS256 signature, `iss`,
`aud` and `exp` with the platform key fetched once per process and cached. Nothing is stored:
no nonce replay check, no database. Any real tool costs more; it shows what Flask + PyJWT cost.

Environment: `BENCH_ISSUER`, `BENCH_CLIENT_ID`, `BENCH_AUTH_LOGIN_URL`, `BENCH_JWKS_URL`,
`BENCH_LAUNCH_URL`.
"""

from __future__ import annotations

import os
import secrets
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from flask import Flask, abort, redirect, render_template, request

app = Flask(__name__, template_folder="templates")
_keys: dict[str, Any] = {}


def _platform_key(kid: str) -> Any:
    if kid not in _keys:
        keyset = requests.get(os.environ["BENCH_JWKS_URL"], timeout=10).json()
        for jwk in keyset["keys"]:
            _keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm="RS256").key
    return _keys[kid]


@app.route("/login/", methods=["GET", "POST"])
def login() -> Any:
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": os.environ["BENCH_CLIENT_ID"],
        "redirect_uri": os.environ["BENCH_LAUNCH_URL"],
        "login_hint": request.values.get("login_hint", ""),
        "lti_message_hint": request.values.get("lti_message_hint", ""),
        "state": state,
        "nonce": nonce,
    }
    response = redirect(os.environ["BENCH_AUTH_LOGIN_URL"] + "?" + urlencode(query))
    response.set_cookie(f"state-{state}", state, max_age=300, httponly=True)
    return response


@app.post("/launch/")
def launch() -> str:
    state = request.form.get("state", "")
    if not state or request.cookies.get(f"state-{state}") != state:
        abort(401)
    token = request.form.get("id_token", "")
    try:
        kid = jwt.get_unverified_header(token).get("kid", "")
        claims = jwt.decode(
            token,
            _platform_key(kid),
            algorithms=["RS256"],
            audience=os.environ["BENCH_CLIENT_ID"],
            issuer=os.environ["BENCH_ISSUER"],
        )
    except (jwt.InvalidTokenError, KeyError):
        abort(401)
    return render_template(
        "reference_launch.html", tool="floor", name=claims.get("name", ""), launch_id=state
    )
