"""`ltiservice --help` and every command's help speak French to the operator."""

from __future__ import annotations

import re

import click
from flask import Flask

from ltiservice.cli import main

#: Words of the English help texts this CLI used to print; none is French.
ENGLISH = re.compile(
    r"\b(the|and|with|from|every|per|its|show|write|register|remove|delete|deliver|queue|"
    r"stop|create|then|which|when|this|message|exit)\b",
    re.IGNORECASE,
)


def _commands(command: click.Command, path: str = "ltiservice"):  # type: ignore[no-untyped-def]
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _commands(sub, f"{path} {name}")


def _prose(text: str | None) -> str:
    # Command names and code in backticks or after « ltiservice » are not prose.
    return re.sub(r"`[^`]*`|ltiservice [a-z -]+|\b[a-z_]+\?limit=1", "", text or "")


def test_every_command_and_option_has_a_french_help() -> None:
    problems = []
    for path, command in _commands(main):
        if not command.help:
            problems.append(f"{path}: no help")
        elif ENGLISH.search(_prose(command.help)):
            problems.append(f"{path}: {command.help.splitlines()[0]}")
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                if not param.help:
                    problems.append(f"{path} {param.opts[0]}: no help")
                elif ENGLISH.search(_prose(param.help)):
                    problems.append(f"{path} {param.opts[0]}: {param.help}")
    assert problems == []


def test_the_top_help_has_no_flask_generic_options(app: Flask) -> None:
    shown = app.test_cli_runner().invoke(main, ["--help"])
    assert shown.exit_code == 0
    for foreign in ("--env-file", "--app", "--debug", "python-dotenv", "limiter", "Usage:"):
        assert foreign not in shown.output
    assert shown.output.startswith("Utilisation : ")
    assert "Commandes:" in shown.output and "Afficher cette aide et quitter." in shown.output


def test_an_option_help_says_default_and_required_in_french(app: Flask) -> None:
    shown = app.test_cli_runner().invoke(main, ["registrations", "create", "--help"])
    text = " ".join(shown.output.split())
    assert "[obligatoire]" in text and "[par défaut : 7d]" in text
    assert "default" not in text and "required" not in text


def test_empty_lists_say_so(app: Flask) -> None:
    runner = app.test_cli_runner()
    for command, said in (
        (["organisations", "list"], "Aucun organisme de formation"),
        (["platforms", "list"], "Aucune plateforme enregistrée."),
        (["registrations", "list"], "Aucun lien d'enregistrement."),
        (["lrs", "list"], "Aucune destination LRS."),
    ):
        shown = runner.invoke(main, command)
        assert shown.exit_code == 0, shown.output
        assert shown.output.startswith(said), command


def test_registration_steps_are_printed_once_the_workers_are_up(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from ltiservice import gunicorn_conf

    monkeypatch.setenv(gunicorn_conf.READY_TEXT_ENV, "Enregistrer l'outil dans Moodle")
    config = SimpleNamespace(workers=2)
    gunicorn_conf.post_worker_init(SimpleNamespace(age=1, cfg=config))
    assert capsys.readouterr().err == ""
    gunicorn_conf.post_worker_init(SimpleNamespace(age=2, cfg=config))
    assert capsys.readouterr().err == "Enregistrer l'outil dans Moodle\n"
    gunicorn_conf.post_worker_init(SimpleNamespace(age=3, cfg=config))  # a worker replaced later
    assert capsys.readouterr().err == ""
