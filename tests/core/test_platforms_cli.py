"""`ltiservice platforms …`: registrations from the command line and from a JSON file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlalchemy import select

from ltiservice import db
from ltiservice.cli import main
from ltiservice.models import Deployment, Platform

MOODLE = [
    "platforms",
    "add",
    "--organisation",
    "of-alpha",
    "--name",
    "Moodle Alpha",
    "--issuer",
    "https://moodle.alpha.example",
    "--client-id",
    "Ab12",
    "--auth-login-url",
    "https://moodle.alpha.example/mod/lti/auth.php",
    "--auth-token-url",
    "https://moodle.alpha.example/mod/lti/token.php",
    "--key-set-url",
    "https://moodle.alpha.example/mod/lti/certs.php",
    "--deployment-id",
    "3",
]


def test_add_list_show_remove(app):
    runner = app.test_cli_runner()
    added = runner.invoke(main, MOODLE)
    assert added.exit_code == 0, added.output
    assert "Plateforme 1 enregistrée" in added.output or "enregistrée" in added.output
    listed = runner.invoke(main, ["platforms", "list"])
    assert "Moodle Alpha" in listed.output and "1 déploiement(s)" in listed.output
    with app.app_context():
        platform = db.session().scalar(select(Platform))
        platform_id = platform.id
    shown = runner.invoke(main, ["platforms", "show", str(platform_id)])
    assert "https://moodle.alpha.example/mod/lti/certs.php" in shown.output
    assert (
        runner.invoke(main, ["platforms", "add-deployment", str(platform_id), "7"]).exit_code == 0
    )
    with app.app_context():
        assert sorted(db.session().scalars(select(Deployment.deployment_id))) == ["3", "7"]
    removed = runner.invoke(main, ["platforms", "remove", str(platform_id), "--yes"])
    assert removed.exit_code == 0
    with app.app_context():
        assert db.session().scalar(select(Platform)) is None


def test_the_same_issuer_and_client_twice_is_refused_and_keeps_the_first(app):
    runner = app.test_cli_runner()
    assert runner.invoke(main, MOODLE).exit_code == 0
    again = runner.invoke(main, [*MOODLE[:-2], "--deployment-id", "9"])
    assert again.exit_code != 0
    assert "déjà enregistrée" in again.output
    with app.app_context():
        assert list(db.session().scalars(select(Deployment.deployment_id))) == ["3"]


def test_same_issuer_other_client_is_another_registration(app):
    runner = app.test_cli_runner()
    assert runner.invoke(main, MOODLE).exit_code == 0
    canvas_like = [*MOODLE]
    canvas_like[canvas_like.index("Ab12")] = "Cd34"
    assert runner.invoke(main, canvas_like).exit_code == 0
    with app.app_context():
        assert len(db.session().scalars(select(Platform)).all()) == 2


def test_import_the_example_file_and_refuse_a_broken_one(app, tmp_path):
    example = Path(__file__).parents[2] / "config" / "platforms.example.json"
    copy = tmp_path / "platforms.json"
    shutil.copy(example, copy)
    runner = app.test_cli_runner()
    imported = runner.invoke(main, ["platforms", "import", str(copy)])
    assert imported.exit_code == 0, imported.output
    assert "2 plateforme(s)" in imported.output

    broken = tmp_path / "broken.json"
    broken.write_text(
        json.dumps(
            [
                {
                    "organisation": "x",
                    "name": "y",
                    "issuer": "pas une url",
                    "client_id": "z",
                    "auth_login_url": "https://a",
                    "auth_token_url": "https://a",
                    "key_set_url": "https://a",
                }
            ]
        )
    )
    refused = runner.invoke(main, ["platforms", "import", str(broken)])
    assert refused.exit_code != 0
    assert "issuer doit être une URL" in refused.output
    with app.app_context():
        assert len(db.session().scalars(select(Platform)).all()) == 2


def test_show_an_unknown_platform_is_a_clear_error(app):
    result = app.test_cli_runner().invoke(main, ["platforms", "show", "999"])
    assert result.exit_code != 0
    assert "Aucune plateforme" in result.output
