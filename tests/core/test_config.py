"""Settings: defaults < file < environment, and loud errors that name the setting."""

from __future__ import annotations

import pytest

from ltiservice.config import ConfigError, load_settings, prepare_instance


def test_environment_overrides_the_file_which_overrides_defaults(tmp_path):
    config = tmp_path / "ltiservice.toml"
    config.write_text('base_url = "https://of.example"\nmax_upload_mb = 7\nlog_level = "DEBUG"\n')
    settings = load_settings(
        environ={
            "LTISERVICE_CONFIG": str(config),
            "LTISERVICE_MAX_UPLOAD_MB": "12",
            "LTISERVICE_OUTBOX_THREAD": "false",
        }
    )
    assert settings.base_url == "https://of.example"  # file
    assert settings.max_upload_mb == 12  # environment beats file
    assert settings.outbox_thread is False
    assert settings.jwt_leeway_s == 60  # default


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"LTISERVICE_MAX_UPLOAD_MB": "beaucoup"}, "LTISERVICE_MAX_UPLOAD_MB"),
        ({"LTISERVICE_OUTBOX_THREAD": "peut-être"}, "LTISERVICE_OUTBOX_THREAD"),
        ({"LTISERVICE_BASE_URL": "ftp://x"}, "LTISERVICE_BASE_URL"),
        ({"LTISERVICE_ENV": "staging"}, "LTISERVICE_ENV"),
        (
            {"LTISERVICE_ENV": "production", "LTISERVICE_BASE_URL": "http://of.example"},
            "LTISERVICE_BASE_URL",
        ),
        (
            {"LTISERVICE_ENV": "production", "LTISERVICE_BASE_URL": "https://of.example"},
            "LTISERVICE_SECRET_KEY",
        ),
        (
            {
                "LTISERVICE_ENV": "production",
                "LTISERVICE_BASE_URL": "https://of.example",
                "LTISERVICE_SECRET_KEY": "x" * 40,
            },
            "LTISERVICE_DATABASE_URL",
        ),
        ({"LTISERVICE_OUTBOX_LEASE_S": "1"}, "LTISERVICE_OUTBOX_LEASE_S"),
        ({"LTISERVICE_SESSION_LIFETIME_S": "30"}, "LTISERVICE_SESSION_LIFETIME_S"),
        ({"LTISERVICE_SESSION_LIFETIME_S": "huit heures"}, "LTISERVICE_SESSION_LIFETIME_S"),
        ({"LTISERVICE_JWKS_REFETCH_MAX": "0"}, "LTISERVICE_JWKS_REFETCH_MAX"),
        ({"LTISERVICE_JWKS_REFETCH_INTERVAL_S": "0"}, "LTISERVICE_JWKS_REFETCH_INTERVAL_S"),
        ({"LTISERVICE_MAX_BODY_KB": "1"}, "LTISERVICE_MAX_BODY_KB"),
        (
            {
                "LTISERVICE_ENV": "production",
                "LTISERVICE_BASE_URL": "https://of.example",
                "LTISERVICE_SECRET_KEY": "x" * 40,
                "LTISERVICE_DATABASE_URL": "postgresql+psycopg://db/x",
                "LTISERVICE_OUTBOUND_ALLOW_LOOPBACK": "1",
            },
            "LTISERVICE_OUTBOUND_ALLOW_LOOPBACK",
        ),
        ({"LTISERVICE_OUTBOUND_DEADLINE_S": "0"}, "LTISERVICE_OUTBOUND_DEADLINE_S"),
        ({"LTISERVICE_OUTBOUND_DOCUMENT_MAX_KB": "0"}, "LTISERVICE_OUTBOUND_DOCUMENT_MAX_KB"),
        ({"LTISERVICE_RATE_LIMIT_LAUNCH": "beaucoup"}, "LTISERVICE_RATE_LIMIT_LAUNCH"),
        ({"LTISERVICE_RATE_LIMIT_REGISTRATION": "10/lune"}, "LTISERVICE_RATE_LIMIT_REGISTRATION"),
    ],
)
def test_invalid_settings_stop_with_the_setting_named(environ, named):
    with pytest.raises(ConfigError, match=named):
        load_settings(environ=environ)


def test_loopback_destinations_follow_the_environment_unless_set():
    production = {
        "LTISERVICE_ENV": "production",
        "LTISERVICE_BASE_URL": "https://of.example",
        "LTISERVICE_SECRET_KEY": "x" * 40,
        "LTISERVICE_DATABASE_URL": "postgresql+psycopg://db/x",
    }
    assert load_settings(environ=production).outbound_allow_loopback is False
    assert load_settings(environ={}).outbound_allow_loopback is True
    assert (
        load_settings(environ={"LTISERVICE_OUTBOUND_ALLOW_LOOPBACK": "0"}).outbound_allow_loopback
        is False
    )


def test_a_broken_or_unknown_file_is_named(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("base_url = \n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(environ={"LTISERVICE_CONFIG": str(broken)})
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('colour = "bleu"\n')
    with pytest.raises(ConfigError, match=r"unknown setting.*colour"):
        load_settings(environ={"LTISERVICE_CONFIG": str(unknown)})
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings(environ={"LTISERVICE_CONFIG": str(tmp_path / "absent.toml")})


def test_the_embedded_default_lives_in_the_instance_folder(tmp_path):
    settings = prepare_instance(
        load_settings({"instance_path": str(tmp_path / "inst")}, environ={})
    )
    assert settings.database_url == f"sqlite:///{tmp_path / 'inst' / 'ltiservice.db'}"
    assert settings.keys_dir == str(tmp_path / "inst" / "keys")
    secret = tmp_path / "inst" / "secret_key"
    assert secret.stat().st_mode & 0o777 == 0o600
    assert settings.secret_key == secret.read_text().strip()
    # The same secret on the next start: sessions survive a restart.
    again = prepare_instance(load_settings({"instance_path": str(tmp_path / "inst")}, environ={}))
    assert again.secret_key == settings.secret_key
