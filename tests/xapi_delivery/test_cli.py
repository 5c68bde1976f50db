"""`ltiservice lrs …` and `ltiservice xapi replay`: destinations, secrets kept, history re-sent."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask
from sqlalchemy import select

from ltiservice.lrs import SecretError, decrypt_secret, encrypt_secret
from ltiservice.lrs_cli import lrs_cli, xapi_cli
from ltiservice.models import LrsDestination
from tests.peers.ralph import RalphLRS
from tests.xapi_delivery.conftest import queued_statements, run_worker
from tests.xapi_delivery.factories import World, add_lrs, full_history, make_world

pytestmark = pytest.mark.peer


def _cli(app: Flask, group: object, *args: str, env: dict[str, str] | None = None, **kw: object):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(group, list(args), env=env, **kw)


def _add(app: Flask, world: World, lrs: RalphLRS, name: str, password: str) -> int:
    result = _cli(
        app,
        lrs_cli,
        "add",
        "--organisation", world.slug,
        "--name", name,
        "--endpoint", lrs.endpoint,
        "--username", lrs.username,
        "--password-env", "TEST_LRS_PASSWORD",
        env={"TEST_LRS_PASSWORD": password},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    found = re.search(r"Destination LRS #(\d+)", result.output)
    assert found is not None
    return int(found.group(1))


def test_destinations_keep_their_secret_out_of_output_logs_and_database(
    app: Flask, ralph_lrs: RalphLRS, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world = make_world(app)
    good = _add(app, world, ralph_lrs, "LRS de l'organisme", ralph_lrs.password)
    wrong = _add(app, world, ralph_lrs, "Branche", "pas-le-bon-mot-de-passe")

    listing = _cli(app, lrs_cli, "list")
    tested_good = _cli(app, lrs_cli, "test", str(good))
    tested_wrong = _cli(app, lrs_cli, "test", str(wrong))
    full_history(app, world)
    run_worker(app)

    assert listing.exit_code == 0
    lines = [line.split("\t") for line in listing.output.splitlines()]
    assert [(line[0], line[1], line[2], line[5], line[6]) for line in lines] == [
        (f"#{good}", world.slug, "LRS de l'organisme", ralph_lrs.username, "active"),
        (f"#{wrong}", world.slug, "Branche", ralph_lrs.username, "active"),
    ]
    assert tested_good.exit_code == 0 and "Connexion réussie" in tested_good.output
    assert tested_wrong.exit_code == 1
    assert "Identifiants refusés par le LRS (HTTP 401)" in tested_wrong.output
    # The destination with refused credentials keeps its statements pending, with the reason.
    held = [m for m in queued_statements(app) if m.destination == f"lrs:{wrong}"]
    assert held and {m.status for m in held} == {"pending"}
    assert {m.last_error for m in held} == {
        "le LRS « Branche » refuse nos identifiants (HTTP 401) : vérifiez-les avec "
        "« ltiservice lrs test »"
    }
    assert any(
        r.levelname == "ERROR" and "refused the credentials" in r.getMessage()
        for r in caplog.records
    )

    everything = listing.output + tested_good.output + tested_wrong.output + caplog.text
    for secret in (ralph_lrs.password, "pas-le-bon-mot-de-passe"):
        assert secret not in everything
    with app.extensions["db_sessionmaker"]() as session:
        stored = list(session.scalars(select(LrsDestination.secret)))
    assert len(stored) == 2 and not any(
        ralph_lrs.password in s or "pas-le-bon" in s for s in stored
    )
    assert decrypt_secret(app.config["SECRET_KEY"], stored[0]) == ralph_lrs.password


def test_a_secret_from_another_secret_key_is_refused_clearly() -> None:
    token = encrypt_secret("a" * 40, "s3cret")
    assert decrypt_secret("a" * 40, token) == "s3cret"
    with pytest.raises(SecretError, match="clé secrète de l'application a changé"):
        decrypt_secret("b" * 40, token)


def test_add_refuses_a_missing_password_variable_and_an_unknown_organisation(
    app: Flask, ralph_lrs: RalphLRS
) -> None:
    world = make_world(app)
    no_env = _cli(
        app, lrs_cli, "add", "--organisation", world.slug, "--name", "x",
        "--endpoint", ralph_lrs.endpoint, "--username", "u", "--password-env", "NOPE_UNSET",
    )  # fmt: skip
    unknown = _cli(
        app, lrs_cli, "add", "--organisation", "inconnu", "--name", "x",
        "--endpoint", ralph_lrs.endpoint, "--username", "u", "--password-env", "P",
        env={"P": "x"},
    )  # fmt: skip
    prompted = _cli(
        app, lrs_cli, "add", "--organisation", world.slug, "--name", "invite",
        "--endpoint", ralph_lrs.endpoint, "--username", "u", input="typed-secret\n",
    )  # fmt: skip

    assert no_env.exit_code == 1 and "NOPE_UNSET est vide ou absente" in no_env.output
    assert unknown.exit_code == 1 and "Aucun organisme n'a le slug « inconnu »" in unknown.output
    assert prompted.exit_code == 0 and "typed-secret" not in prompted.output


def test_remove_drops_what_was_still_queued_for_that_destination(
    app: Flask, ralph_lrs: RalphLRS
) -> None:
    world = make_world(app)
    destination = add_lrs(app, world, ralph_lrs)
    full_history(app, world)
    queued = len(queued_statements(app))

    removed = _cli(app, lrs_cli, "remove", str(destination))

    assert removed.exit_code == 0
    assert f"({queued} envoi(s) abandonné(s))" in removed.output
    assert {(m.status, m.last_error) for m in queued_statements(app)} == {
        ("dead", "destination LRS supprimée")
    }
    assert _cli(app, lrs_cli, "list").output.strip() == "Aucune destination LRS."


def test_replay_sends_the_history_to_a_new_lrs_once(
    app: Flask, ralph_lrs: RalphLRS, branch_lrs: RalphLRS
) -> None:
    world = make_world(app)
    add_lrs(app, world, ralph_lrs)
    full_history(app, world)
    run_worker(app)
    original = {m.payload["id"]: m.payload for m in queued_statements(app)}
    newcomer = _add(app, world, branch_lrs, "Branche (nouvelle)", branch_lrs.password)

    first = _cli(app, xapi_cli, "replay", "--since", "2020-01-01", "--to", str(newcomer))
    report = run_worker(app)
    again = _cli(app, xapi_cli, "replay", "--since", "2020-01-01", "--to", str(newcomer))
    later = _cli(app, xapi_cli, "replay", "--since", "2999-01-01", "--to", str(newcomer))

    assert first.exit_code == 0, first.output
    assert f"{len(original)} déclaration(s) remise(s) en file" in first.output
    assert report.delivered == len(original) and report.dead == 0
    # Rebuilt from the rows, the statements are the very ones queued at the time.
    replayed = [m for m in queued_statements(app) if m.destination == f"lrs:{newcomer}"]
    assert {m.payload["id"]: m.payload for m in replayed} == original
    for statement_id in original:
        assert branch_lrs.count_stored(statement_id) == 1
    assert "0 déclaration(s) remise(s) en file" in again.output
    assert f"({len(original)} déjà en file)" in again.output
    assert "0 déclaration(s) remise(s) en file" in later.output
    assert len(queued_statements(app)) == 2 * len(original)


def test_replay_names_an_unknown_destination(app: Flask) -> None:
    result = _cli(app, xapi_cli, "replay", "--since", "2020-01-01", "--to", "999")
    bad_date = _cli(app, xapi_cli, "replay", "--since", "01/02/2020", "--to", "1")

    assert result.exit_code == 1
    assert "Aucune destination LRS n'a l'identifiant 999." in result.output
    assert bad_date.exit_code == 2 and "01/02/2020" in bad_date.output
