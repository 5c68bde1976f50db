"""Settings: defaults < TOML file < environment (LTISERVICE_*), validated loudly.

Nothing here touches the disk at import time; `load_settings` does the reading and
`prepare_instance` creates what the embedded default needs (instance folder, secret key).
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "LTISERVICE_"


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    """Every setting the service reads, with its default."""

    env: str = "development"  # development | production | testing
    instance_path: str = "instance"
    base_url: str = "http://127.0.0.1:5000"
    # The base of every xAPI IRI we mint (profile, activity types, certifications, blocks …):
    # the organisation's or the branch's domain, which must route its path to this service
    # (docs/xapi.md). Empty: <base_url>/xapi. Changing it changes every IRI: choose it once.
    xapi_iri_base: str = ""
    database_url: str = ""  # empty: SQLite in the instance folder
    redis_url: str = ""  # empty: launch state in the database
    redis_prefix: str = "ltiservice:"  # several services (or test runs) may share one Redis
    secret_key: str = ""
    keys_dir: str = ""  # empty: <instance>/keys
    upload_dir: str = ""  # empty: <instance>/files
    max_upload_mb: int = 20
    launch_lifetime_s: int = 86400
    jwt_leeway_s: int = 60
    jwks_refetch_interval_s: int = 60  # an unknown kid re-fetches once per interval…
    jwks_refetch_max: int = 10  # …and a platform's JWKS at most this often per interval
    jwks_cache_lifetime_s: int = 3600
    # A launch opens a session for this long, counted from the launch; use never extends it.
    session_lifetime_s: int = 28800
    # The largest JSON or URL-encoded body (a 100,000-character draft fits; files go as
    # multipart, bounded by max_upload_mb and Werkzeug's per-field limit).
    max_body_kb: int = 1024
    http_timeout_s: float = 10.0  # per connect / per read, on every outbound call
    # Outbound calls (platforms, LRSs): overall deadline and the largest answer read.
    outbound_deadline_s: float = 15.0
    outbound_max_response_kb: int = 4096
    outbound_document_max_kb: int = 256  # OpenID configurations, registrations, JWKS
    # Loopback destinations (a local Moodle, the test peers). Unset: allowed outside
    # production; production refuses it, as it always refuses private and reserved ranges.
    outbound_allow_loopback: bool = False
    # Dynamic registrations wait for `ltiservice platforms approve ID` before any launch.
    registration_approval: bool = False
    # Per client address, in Flask-Limiter's notation ("N per minute;M per hour").
    rate_limit_registration: str = "10 per minute;60 per hour"
    rate_limit_launch: str = "300 per minute"
    log_level: str = "INFO"
    outbox_thread: bool = True  # deliver in a background thread (embedded default)
    # How long a worker holds a delivery it took; a worker killed mid-delivery leaves it to
    # others after this. Keep it above the slowest delivery (timeouts of a bisected batch).
    outbox_lease_s: float = 120.0
    # Retries of a failed delivery: the delay doubles from the first up to the max (jittered
    # down to half), and a delivery is given up (dead) only after failing for give_up_h hours.
    outbox_retry_first_s: float = 5.0
    outbox_retry_max_s: float = 1800.0
    outbox_retry_give_up_h: float = 72.0
    cdc_xsd_version: str = "1.1.2"
    # The organisations' CDC identifiers for the accrochage export from the jury's pages: one
    # <organisation slug>.toml each (config/accrochage.example.toml). Empty: <instance>/accrochage.
    accrochage_dir: str = ""
    # The built-in demo platform (`ltiservice demo` sets it): anyone may log in as its cast.
    demo_enabled: bool = False
    # Submitted files are erased this many days after the decision (0: kept).
    file_retention_days: int = 0

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def xapi_base(self) -> str:
        """The xAPI IRI base in use (``xapi_iri_base`` or ``<base_url>/xapi``)."""
        return self.xapi_iri_base or f"{self.base_url.rstrip('/')}/xapi"


_FIELD_TYPES = {f.name: f.type for f in fields(Settings)}


def _coerce(name: str, raw: Any) -> Any:
    kind = _FIELD_TYPES[name]
    try:
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(text)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        return str(raw)
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}{name.upper()}: expected {kind}, got {raw!r}") from exc


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot be read ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: invalid TOML ({exc})") from exc
    unknown = sorted(set(data) - set(_FIELD_TYPES))
    if unknown:
        raise ConfigError(f"config file {path}: unknown setting(s) {', '.join(unknown)}")
    return data


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Merge defaults, the TOML file named by LTISERVICE_CONFIG, the environment, overrides."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_file = environ.get(f"{ENV_PREFIX}CONFIG")
    if config_file:
        values.update(_read_file(Path(config_file)))
    for name in _FIELD_TYPES:
        key = f"{ENV_PREFIX}{name.upper()}"
        if key in environ:
            values[name] = environ[key]
    values.update(overrides or {})
    unknown = sorted(set(values) - set(_FIELD_TYPES))
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    if "outbound_allow_loopback" not in values:
        values["outbound_allow_loopback"] = str(values.get("env", "development")) != "production"
    settings = Settings(**{name: _coerce(name, raw) for name, raw in values.items()})
    validate_settings(settings)
    return settings


def validate_settings(settings: Settings) -> None:
    """Refuse settings the service cannot run with, naming the setting."""
    if settings.env not in {"development", "production", "testing"}:
        raise ConfigError(f"{ENV_PREFIX}ENV: must be development, production or testing")
    parts = urlsplit(settings.base_url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(f"{ENV_PREFIX}BASE_URL: must be an absolute http(s) URL")
    if settings.xapi_iri_base:
        iri = urlsplit(settings.xapi_iri_base)
        if (
            iri.scheme not in {"http", "https"}
            or not iri.netloc
            or iri.query
            or iri.fragment
            or settings.xapi_iri_base.endswith("/")
        ):
            raise ConfigError(
                f"{ENV_PREFIX}XAPI_IRI_BASE: must be an absolute http(s) IRI ending with its path "
                "(no trailing '/', no query)"
            )
    if settings.is_production:
        if parts.scheme != "https":
            raise ConfigError(f"{ENV_PREFIX}BASE_URL: must use https in production")
        if len(settings.secret_key) < 32:
            raise ConfigError(
                f"{ENV_PREFIX}SECRET_KEY: required in production (at least 32 characters)"
            )
        if not settings.database_url:
            raise ConfigError(f"{ENV_PREFIX}DATABASE_URL: required in production")
        if settings.demo_enabled:
            raise ConfigError(f"{ENV_PREFIX}DEMO_ENABLED: the demo cannot run in production")
        if settings.outbound_allow_loopback:
            raise ConfigError(
                f"{ENV_PREFIX}OUTBOUND_ALLOW_LOOPBACK: loopback destinations are refused in "
                "production"
            )
    for name in (
        "outbound_deadline_s",
        "http_timeout_s",
        "outbound_max_response_kb",
        "outbound_document_max_kb",
    ):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{ENV_PREFIX}{name.upper()}: must be positive")
    for name in ("rate_limit_registration", "rate_limit_launch"):
        if not _valid_rate_limit(getattr(settings, name)):
            raise ConfigError(
                f"{ENV_PREFIX}{name.upper()}: expected limits such as '10 per minute;60 per hour'"
            )
    if settings.file_retention_days < 0:
        raise ConfigError(f"{ENV_PREFIX}FILE_RETENTION_DAYS: must be 0 (keep) or positive")
    if settings.outbox_lease_s < 5:
        raise ConfigError(f"{ENV_PREFIX}OUTBOX_LEASE_S: at least 5 seconds")
    if not 1 <= settings.jwks_refetch_max <= 100:
        raise ConfigError(f"{ENV_PREFIX}JWKS_REFETCH_MAX: between 1 and 100")
    if not 1 <= settings.jwks_refetch_interval_s <= settings.jwks_cache_lifetime_s:
        raise ConfigError(
            f"{ENV_PREFIX}JWKS_REFETCH_INTERVAL_S: at least 1 and at most JWKS_CACHE_LIFETIME_S"
        )
    if not 60 <= settings.session_lifetime_s <= 7 * 86400:
        raise ConfigError(f"{ENV_PREFIX}SESSION_LIFETIME_S: between 60 s and 7 days")
    if not 16 <= settings.max_body_kb <= 16384:
        raise ConfigError(f"{ENV_PREFIX}MAX_BODY_KB: between 16 and 16384")
    if settings.outbox_retry_first_s <= 0:
        raise ConfigError(f"{ENV_PREFIX}OUTBOX_RETRY_FIRST_S: must be positive")
    if settings.outbox_retry_max_s < settings.outbox_retry_first_s:
        raise ConfigError(f"{ENV_PREFIX}OUTBOX_RETRY_MAX_S: must be at least OUTBOX_RETRY_FIRST_S")
    if settings.outbox_retry_give_up_h <= 0:
        raise ConfigError(f"{ENV_PREFIX}OUTBOX_RETRY_GIVE_UP_H: must be positive (hours)")
    if settings.max_upload_mb <= 0:
        raise ConfigError(f"{ENV_PREFIX}MAX_UPLOAD_MB: must be positive")
    if settings.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(f"{ENV_PREFIX}LOG_LEVEL: must be DEBUG, INFO, WARNING or ERROR")


def _valid_rate_limit(text: str) -> bool:
    from limits import parse_many

    try:
        return bool(parse_many(text))
    except ValueError:
        return False


def prepare_instance(settings: Settings) -> Settings:
    """Create the instance folder and fill the defaults that live in it."""
    instance = Path(settings.instance_path).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    changes: dict[str, Any] = {"instance_path": str(instance)}
    if not settings.database_url:
        changes["database_url"] = f"sqlite:///{instance / 'ltiservice.db'}"
    if not settings.keys_dir:
        changes["keys_dir"] = str(instance / "keys")
    if not settings.upload_dir:
        changes["upload_dir"] = str(instance / "files")
    if not settings.secret_key:
        changes["secret_key"] = _instance_secret(instance / "secret_key")
    return replace(settings, **changes)


def _instance_secret(path: Path) -> str:
    # Generated once and kept outside git so sessions survive restarts in development.
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value
