"""Reference (a): an LTI 1.3 tool written the way pylti1p3's own Flask example does it.

Mirrors dmitry-viskov/pylti1.3-flask-example `game/app.py`: flask-caching `Cache` with
`CACHE_TYPE = "simple"` (SimpleCache, one dict per process) as pylti1p3's launch data storage,
`ToolConfJsonFile` re-read on every request, `FlaskOIDCLogin(...).enable_check_cookies()
.redirect(target_link_uri)`, and `FlaskMessageLaunch(...).get_launch_data()` (validation, with
the platform JWKS fetched on every launch: the example never calls `set_public_key_caching`).
Left out: the example's `pprint` of the launch body to stdout and its deep-linking/AGS routes.

Environment: `BENCH_TOOL_CONFIG` (the JSON tool config the harness writes),
`BENCH_CACHE_TYPE` (default `SimpleCache`, as the example; `RedisCache` with
`BENCH_CACHE_REDIS_URL` shares state between gunicorn workers), `BENCH_KEY_CACHING=1`
(the platform's JWKS kept in the same cache through pylti1p3's `set_public_key_caching`: the
example's best configuration, not the published one).
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, render_template
from flask_caching import Cache
from pylti1p3.contrib.flask import (
    FlaskCacheDataStorage,
    FlaskMessageLaunch,
    FlaskOIDCLogin,
    FlaskRequest,
)
from pylti1p3.tool_config import ToolConfJsonFile

app = Flask(__name__, template_folder="templates")
app.config.from_mapping(
    CACHE_TYPE=os.environ.get("BENCH_CACHE_TYPE", "SimpleCache"),
    CACHE_DEFAULT_TIMEOUT=600,
    CACHE_REDIS_URL=os.environ.get("BENCH_CACHE_REDIS_URL", ""),
    SECRET_KEY="bench-only",
    SESSION_COOKIE_HTTPONLY=True,
)
cache = Cache(app)


def _tool_conf() -> ToolConfJsonFile:
    return ToolConfJsonFile(os.environ["BENCH_TOOL_CONFIG"])


@app.route("/login/", methods=["GET", "POST"])
def login() -> Any:
    flask_request = FlaskRequest()
    target_link_uri = flask_request.get_param("target_link_uri")
    if not target_link_uri:
        raise ValueError('Missing "target_link_uri" param')
    oidc_login = FlaskOIDCLogin(
        flask_request, _tool_conf(), launch_data_storage=FlaskCacheDataStorage(cache)
    )
    return oidc_login.enable_check_cookies().redirect(target_link_uri)


@app.route("/launch/", methods=["POST"])
def launch() -> str:
    message_launch = FlaskMessageLaunch(
        FlaskRequest(), _tool_conf(), launch_data_storage=FlaskCacheDataStorage(cache)
    )
    if os.environ.get("BENCH_KEY_CACHING") == "1":
        message_launch.set_public_key_caching(FlaskCacheDataStorage(cache), cache_lifetime=7200)
    data = message_launch.get_launch_data()
    return render_template(
        "reference_launch.html",
        tool="pylti1p3 example",
        name=data.get("name", ""),
        launch_id=message_launch.get_launch_id(),
    )
