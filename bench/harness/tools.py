"""The three tools under load: ltiservice, the pylti1p3-example reference, the floor.

Each is set up from scratch in a temporary folder, registered with the bench platform, and
served by gunicorn with the same number of sync workers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.platform import (
    CLIENT_ID,
    CONTEXT_ID,
    DEPLOYMENT_ID,
    ISSUER,
    RESOURCE_LINK_ID,
    BenchPlatform,
)
from harness.servers import VENV_BIN, Gunicorn

ROOT = Path(__file__).resolve().parents[2]
REFERENCES = ROOT / "bench" / "references"
ASSESSMENT_TITLE = "Étude de cas B2B"

# Run inside the tool's environment: an assessment placed on the bench resource link, as
# deep linking would have stored it, so a learner's launch lands on the real case page.
PLACE_SCRIPT = f"""
from datetime import UTC, datetime, timedelta
from sqlalchemy import select
from ltiservice import create_app, db
from ltiservice.models import Assessment, Course, Platform
app = create_app()
with app.app_context():
    s = db.session()
    platform = s.scalar(select(Platform).where(Platform.client_id == {CLIENT_ID!r}))
    course = Course(platform_id=platform.id, context_id={CONTEXT_ID!r}, title="CQP CRCA 2026")
    s.add(course)
    s.flush()
    s.add(Assessment(
        organisation_id=platform.organisation_id, platform_id=platform.id, course_id=course.id,
        resource_id="bench-assessment", resource_link_id={RESOURCE_LINK_ID!r},
        title={ASSESSMENT_TITLE!r}, certification_code="CRCA",
        referential_version="RNCP41351", block_code="B2B",
        case_id="crca-b2b-degat-des-eaux-irsi",
        deadline=datetime.now(UTC) + timedelta(days=30),
        allowed_extensions=[".pdf", ".docx"], max_file_mb=5, max_files=3, max_attempts=2,
        score_maximum=20.0,
    ))
    s.commit()
"""


@dataclass
class ToolUnderLoad:
    """A running tool and what the harness needs to launch into it."""

    name: str
    flow: str  # ours | example | floor
    server: Gunicorn
    login_url: str
    launch_url: str
    page_marker: str


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(VENV_BIN / "ltiservice"), *args], env=env, check=True, capture_output=True)


def start_ours(
    platform: BenchPlatform,
    folder: Path,
    *,
    workers: int,
    database_url: str = "",
    redis_url: str = "",
    name: str = "ltiservice",
    app: str = "ltiservice.wsgi:app",
    extra_env: dict[str, str] | None = None,
) -> ToolUnderLoad:
    """ltiservice migrated, keyed, registered through `ltiservice platforms add`, placed."""
    folder.mkdir(parents=True)
    server = Gunicorn(app, {}, folder, workers=workers)
    env = dict(os.environ)
    env.update(extra_env or {})
    env.update(
        LTISERVICE_INSTANCE_PATH=str(folder / "instance"),
        LTISERVICE_BASE_URL=server.url,
        LTISERVICE_OUTBOX_THREAD="false",
        # Every bench launch comes from 127.0.0.1: the per-address limit would cap the run.
        LTISERVICE_RATE_LIMIT_LAUNCH="1000000 per minute",
        LTISERVICE_DATABASE_URL=database_url,
        LTISERVICE_REDIS_URL=redis_url,
    )
    _cli(env, "db", "upgrade")
    _cli(env, "keys", "generate")
    _cli(
        env,
        "platforms",
        "add",
        "--organisation=bench-of",
        "--name=Bench platform",
        f"--issuer={ISSUER}",
        f"--client-id={CLIENT_ID}",
        f"--auth-login-url={platform.auth_login_url}",
        f"--auth-token-url={platform.auth_token_url}",
        f"--key-set-url={platform.jwks_url}",
        f"--deployment-id={DEPLOYMENT_ID}",
    )
    subprocess.run([sys.executable, "-c", PLACE_SCRIPT], env=env, check=True, cwd=ROOT)
    server.env = env
    server.start("/lti/jwks")
    return ToolUnderLoad(
        name, "ours", server, server.url + "/lti/login", server.url + "/lti/launch", "Étude de cas"
    )


def _reference_env(folder: Path, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REFERENCES)
    env.update(extra)
    return env


def start_example(
    platform: BenchPlatform,
    folder: Path,
    *,
    workers: int,
    cache: str = "SimpleCache",
    key_caching: bool = False,
) -> ToolUnderLoad:
    """pylti1p3's example-style tool with its JSON tool config and private key file."""
    folder.mkdir(parents=True)
    server = Gunicorn("example_tool:app", {}, folder, workers=workers)
    subprocess.run(
        ["openssl", "genrsa", "-out", str(folder / "private.key"), "2048"],
        check=True,
        capture_output=True,
    )
    config = {
        ISSUER: [
            {
                "default": True,
                "client_id": CLIENT_ID,
                "auth_login_url": platform.auth_login_url,
                "auth_token_url": platform.auth_token_url,
                "key_set_url": platform.jwks_url,
                "key_set": None,
                "private_key_file": "private.key",
                "deployment_ids": [DEPLOYMENT_ID],
            }
        ]
    }
    (folder / "tool.json").write_text(json.dumps(config))
    extra = {"BENCH_TOOL_CONFIG": str(folder / "tool.json"), "BENCH_CACHE_TYPE": cache}
    if cache == "RedisCache":
        extra["BENCH_CACHE_REDIS_URL"] = "redis://127.0.0.1:6379/14"
    if key_caching:
        extra["BENCH_KEY_CACHING"] = "1"
    server.env = _reference_env(folder, extra)
    server.start("/login/")
    name = "pylti1p3 example" + ("" if cache == "SimpleCache" else f" ({cache})")
    if key_caching:
        name = name.removesuffix(")") + " + key cache)"
    return ToolUnderLoad(
        name, "example", server, server.url + "/login/", server.url + "/launch/", "Lancement"
    )


def start_floor(platform: BenchPlatform, folder: Path, *, workers: int) -> ToolUnderLoad:
    """The floor tool: state cookie + PyJWT verify with a cached key."""
    folder.mkdir(parents=True)
    server = Gunicorn("floor_tool:app", {}, folder, workers=workers)
    server.env = _reference_env(
        folder,
        {
            "BENCH_ISSUER": ISSUER,
            "BENCH_CLIENT_ID": CLIENT_ID,
            "BENCH_AUTH_LOGIN_URL": platform.auth_login_url,
            "BENCH_JWKS_URL": platform.jwks_url,
            "BENCH_LAUNCH_URL": server.url + "/launch/",
        },
    )
    server.start("/login/")
    return ToolUnderLoad(
        "floor", "floor", server, server.url + "/login/", server.url + "/launch/", "Lancement"
    )
