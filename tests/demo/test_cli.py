"""`ltiservice demo --no-serve` prepares the demo once, whatever the number of runs."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import create_engine, func, select

from ltiservice import create_app
from ltiservice.cli import main
from ltiservice.models import Assessment, Deployment, Organisation, Platform
from tests.conftest import _wipe


def test_demo_command_prepares_the_demo_idempotently(database_url: str, tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env = {
        "LTISERVICE_ENV": "development",
        "LTISERVICE_DATABASE_URL": database_url,
        "LTISERVICE_INSTANCE_PATH": str(instance),
        "LTISERVICE_BASE_URL": "http://127.0.0.1:5099",
        "LTISERVICE_OUTBOX_THREAD": "0",
    }
    runner = CliRunner()
    apps: list[Flask] = []

    def factory() -> Flask:
        apps.append(create_app())
        return apps[-1]

    def run() -> Result:
        return runner.invoke(
            main,
            ["demo", "--no-serve"],
            env=env,
            obj=ScriptInfo(create_app=factory),
            catch_exceptions=False,
        )

    try:
        first = run()
        assert first.exit_code == 0, first.output
        assert "DÉMONSTRATION" in first.output
        assert "http://127.0.0.1:5099/demo/" in first.output
        assert "(créée)" in first.output
        second = run()
        assert second.exit_code == 0, second.output
        assert "(créée)" not in second.output

        engine = create_engine(database_url)
        with engine.connect() as conn:
            platforms = conn.execute(select(Platform.issuer, Platform.client_id)).all()
            assert platforms == [("http://127.0.0.1:5099/demo", "ltiservice-demo")]
            assert conn.scalar(select(func.count()).select_from(Deployment)) == 1
            assert conn.scalar(select(Organisation.slug)) == "demo"
            rows = conn.execute(select(Assessment.certification_code, Assessment.block_code)).all()
            assert rows == [("CRCA", "B2B")]
        engine.dispose()
        key = instance / "demo" / "platform.pem"
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(key.parent).st_mode) == 0o700
        # The demo flag is never left on for this process's later app starts.
        assert "LTISERVICE_DEMO_ENABLED" not in os.environ
    finally:
        for app in apps:
            app.extensions["db_engine"].dispose()
        _wipe(database_url)
