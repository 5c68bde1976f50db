"""LTI Dynamic Registration 1.0, through an operator's registration link.

`GET /lti/register/<token>?openid_configuration=…&registration_token=…`: the link must be
valid before anything else happens (no fetch, nothing stored otherwise). Then the platform's
OpenID configuration is fetched through the outbound client (public addresses only, 256 KB,
an overall deadline), checked, kept server-side for 30 minutes with a one-time id and a CSRF
token (the page runs in a cross-site iframe where cookies may be blocked, so neither rides on
a cookie), and a French confirmation page names the organisation the link belongs to.

`POST /lti/register/<token>` spends one use of the link, sends our client registration to the
platform, stores the Platform and Deployment in one transaction, and answers with a page
whose script tells the LMS to close the window. The organisation always comes from the link,
never from the platform's answer: a known issuer with a new client_id lands in the link's
organisation and nowhere else. With `registration_approval`, the platform waits as
`pending` until `ltiservice platforms approve ID`.

What the platform answers is never shown to the person (status, body, error_description):
the page says what to do, the log keeps a short reason.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from flask import Blueprint, Response, g, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from ltiservice import db
from ltiservice.errors import ConflictError, ServiceError, render_error
from ltiservice.lti import adapter
from ltiservice.lti.registration_links import (
    ASK_OPERATOR,
    RegistrationLinkError,
    find_usable_link,
    give_back_use,
    take_use,
)
from ltiservice.lti.services.ags import AGS_SCOPES
from ltiservice.lti.services.nrps import SCOPE_MEMBERSHIP
from ltiservice.models import Platform, RegistrationLink
from ltiservice.net.outbound import (
    AddressRefusedError,
    DeadlineExceededError,
    ResponseTooLargeError,
)
from ltiservice.platforms import PlatformSpec, add_deployment, add_platform

bp = Blueprint("lti_registration", __name__, url_prefix="/lti")
log = logging.getLogger(__name__)

PLATFORM_CONF = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONF = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PENDING_TTL_S = 1800
# The pending entry an anonymous GET creates: bounded by the document cap, and by this.
MAX_PENDING_BYTES = 96 * 1024
CLIENT_NAME = "Évaluation des blocs de compétences"
PRODUCT_NAMES = {"moodle": "Moodle", "canvas": "Canvas", "openedx": "Open edX"}
# Where a deep-linking launch appears, in each LMS's own vocabulary.
DEEP_LINK_PLACEMENTS = {
    "moodle": ["ContentArea"],
    "canvas": ["link_selection", "assignment_selection"],
}
_PENDING_ID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class RegistrationError(ServiceError):
    """Dynamic registration cannot go on; the message tells the LMS admin why."""

    status = 400
    code = "registration_failed"
    title = "Enregistrement de l'outil impossible"


@dataclass(frozen=True)
class PlatformConfiguration:
    """The checked parts of a platform's OpenID configuration (and the raw document)."""

    config_url: str
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    scopes_supported: tuple[str, ...]
    messages_supported: tuple[str, ...] | None
    product_family: str
    authorization_server: str | None
    raw: dict[str, Any]

    @classmethod
    def check(cls, raw: Any, config_url: str, require_https: bool) -> PlatformConfiguration:
        """Apply the spec's rules; RegistrationError (400) names the first one broken."""
        if not isinstance(raw, dict):
            raise _bad_config("le document n'est pas un objet JSON")
        issuer = raw.get("issuer")
        if not isinstance(issuer, str) or not _issuer_prefixes(issuer, config_url):
            raise RegistrationError(
                "L'émetteur (issuer) déclaré par la plateforme ne correspond pas à l'adresse de "
                "sa configuration : l'enregistrement est refusé par sécurité.",
                code="issuer_mismatch",
            )
        urls = {}
        for name in (
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "registration_endpoint",
        ):
            urls[name] = _url_field(raw, name, require_https)
        _url_field(raw, "issuer", require_https)
        for name, needed in (
            ("token_endpoint_auth_methods_supported", "private_key_jwt"),
            ("id_token_signing_alg_values_supported", "RS256"),
            ("response_types_supported", "id_token"),
        ):
            values = raw.get(name)
            if not isinstance(values, list) or needed not in values:
                raise _bad_config(f"« {name} » doit contenir {needed}")
        lti = raw.get(PLATFORM_CONF)
        if not isinstance(lti, dict) or not isinstance(lti.get("product_family_code"), str):
            raise _bad_config("la configuration LTI de la plateforme (product_family_code) manque")
        messages = lti.get("messages_supported")
        types = None
        if isinstance(messages, list):
            types = tuple(str(m.get("type")) for m in messages if isinstance(m, dict))
        scopes = raw.get("scopes_supported")
        server = raw.get("authorization_server")
        return cls(
            config_url=config_url,
            issuer=issuer,
            scopes_supported=tuple(s for s in scopes if isinstance(s, str))
            if isinstance(scopes, list)
            else (),
            messages_supported=types,
            product_family=lti["product_family_code"].strip().lower()[:64],
            authorization_server=server if isinstance(server, str) and server else None,
            raw=raw,
            **urls,
        )


def load_platform_configuration(
    config_url: str, token: str | None, http: requests.Session, require_https: bool
) -> PlatformConfiguration:
    """Fetch and check the OpenID configuration (bearer registration token, as Canvas wants)."""
    parts = urlsplit(config_url)
    if parts.scheme not in ({"https"} if require_https else {"http", "https"}) or not parts.netloc:
        raise RegistrationError(
            "L'adresse de configuration fournie par la plateforme (openid_configuration) "
            "est absente ou invalide.",
            code="bad_configuration_url",
        )
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        # No redirects (the outbound client follows none): the configuration must come from
        # the address the issuer is checked against.
        response = http.get(config_url, headers=headers)
    except requests.RequestException as exc:
        log.info("platform configuration not fetched: %s", _reason(exc))
        raise _upstream(_UNREACHABLE_CONFIG) from exc
    if response.status_code != 200:
        log.info("platform configuration answered HTTP %s", response.status_code)
        raise _upstream(_UNREACHABLE_CONFIG)
    try:
        raw = response.json()
    except ValueError as exc:
        log.info("platform configuration is not JSON")
        raise _upstream("La configuration de la plateforme n'est pas du JSON valide.") from exc
    return PlatformConfiguration.check(raw, config_url, require_https)


def build_client_registration(base_url: str, config: PlatformConfiguration) -> dict[str, Any]:
    """Our client registration request (LTI Dynamic Registration 1.0, §3.5.2)."""
    base = base_url.rstrip("/")
    launch = f"{base}/lti/launch"
    wanted = (*AGS_SCOPES, SCOPE_MEMBERSHIP)
    scopes = (
        [s for s in wanted if s in config.scopes_supported]
        if config.scopes_supported
        else list(wanted)
    )
    messages: list[dict[str, Any]] = [
        {
            "type": "LtiResourceLinkRequest",
            "target_link_uri": launch,
            "label": "Étude de cas (évaluation)",
        },
        {
            "type": "LtiDeepLinkingRequest",
            "target_link_uri": launch,
            "label": "Choisir une certification, un bloc et un cas",
            "placements": DEEP_LINK_PLACEMENTS.get(config.product_family, []),
        },
        {
            "type": "LtiSubmissionReviewRequest",
            "target_link_uri": launch,
            "label": "Consulter le rendu et son évaluation",
        },
    ]
    if config.messages_supported is not None:
        messages = [
            m
            for m in messages
            if m["type"] in config.messages_supported or m["type"] == "LtiResourceLinkRequest"
        ]
    for message in messages:
        if not message.get("placements"):
            message.pop("placements", None)
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": f"{base}/lti/login",
        "redirect_uris": [launch],
        "client_name": CLIENT_NAME,
        "client_name#fr": CLIENT_NAME,
        "jwks_uri": f"{base}/lti/jwks",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONF: {
            "domain": urlsplit(base).netloc,
            "description": "Évaluation des certifications professionnelles par blocs de "
            "compétences : rendus, grilles critériées, décisions du jury.",
            "target_link_uri": launch,
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            "messages": messages,
        },
    }


def send_registration(
    config: PlatformConfiguration, body: dict[str, Any], token: str | None, http: requests.Session
) -> dict[str, Any]:
    """POST the registration; the platform's answer (with our client_id) or a 502 error."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = http.post(config.registration_endpoint, json=body, headers=headers)
    except requests.RequestException as exc:
        log.info("registration not sent: %s", _reason(exc))
        raise _upstream("Le service d'enregistrement de la plateforme est injoignable.") from exc
    if response.status_code in (401, 403):
        log.info("registration token refused (HTTP %s)", response.status_code)
        raise _upstream(
            "La plateforme a refusé le jeton d'enregistrement (invalide, expiré ou déjà "
            "utilisé). Relancez l'enregistrement depuis la plateforme.",
            code="registration_token_refused",
        )
    if response.status_code not in (200, 201):
        log.info("registration refused by the platform (HTTP %s)", response.status_code)
        raise _upstream(
            "La plateforme a refusé l'enregistrement de l'outil. Vérifiez sa configuration "
            "puis relancez l'enregistrement ; si le refus persiste, l'exploitant du service "
            "en trouvera le motif dans son journal.",
            code="registration_refused",
        )
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if (
        not isinstance(answer, dict)
        or not isinstance(answer.get("client_id"), str)
        or not answer["client_id"]
    ):
        raise _upstream("La plateforme a accepté l'enregistrement sans identifiant client.")
    return answer


def store_registration(
    session: Session,
    config: PlatformConfiguration,
    answer: dict[str, Any],
    link: RegistrationLink,
    approval_required: bool,
) -> tuple[Platform, str | None]:
    """Platform and Deployment rows in the link's organisation (no commit).

    A known (issuer, client_id) gains a deployment, but only within the link's organisation.
    """
    client_id = answer["client_id"]
    tool_conf = answer.get(TOOL_CONF)
    deployment = tool_conf.get("deployment_id") if isinstance(tool_conf, dict) else None
    deployment_id = str(deployment)[:255] if deployment not in (None, "") else None
    existing = session.scalar(
        select(Platform).where(Platform.issuer == config.issuer, Platform.client_id == client_id)
    )
    if existing is not None:
        if existing.organisation_id != link.organisation_id:
            raise ConflictError(
                "Cette plateforme est déjà enregistrée pour un autre organisme de formation : "
                "l'exploitant du service doit traiter cette demande.",
                code="registration_other_organisation",
            )
        if deployment_id is None or any(
            d.deployment_id == deployment_id for d in existing.deployments
        ):
            raise ConflictError(
                "Cet outil est déjà enregistré pour cette plateforme et ce déploiement.",
                code="registration_duplicate",
            )
        add_deployment(session, existing, deployment_id)
        return existing, deployment_id
    kept = {k: v for k, v in answer.items() if k != "registration_access_token"}
    spec = PlatformSpec(
        organisation=link.organisation.slug,
        name=platform_label(config),
        issuer=config.issuer,
        client_id=client_id,
        auth_login_url=config.authorization_endpoint,
        auth_token_url=config.token_endpoint,
        key_set_url=config.jwks_uri,
        deployment_ids=(deployment_id,) if deployment_id else (),
        auth_audience=config.authorization_server,
        product_family=config.product_family,
        source="dynamic",
        registration={
            "openid_configuration_url": _without_token(config.config_url),
            "openid_configuration": config.raw,
            "client_registration": kept,
        },
    )
    platform = add_platform(session, spec)
    platform.registration_link_id = link.id
    platform.status = "pending" if approval_required else "active"
    return platform, deployment_id


def platform_label(config: PlatformConfiguration) -> str:
    product = PRODUCT_NAMES.get(config.product_family, config.product_family or "LMS")
    return f"{product} ({urlsplit(config.issuer).netloc})"


# ---------------------------------------------------------------------------- views


@bp.route("/register", methods=["GET", "POST"])
def without_link() -> Response:
    """A registration needs an operator's link: say so, store nothing, fetch nothing."""
    raise RegistrationLinkError(
        "L'outil ne s'enregistre qu'avec un lien fourni par l'exploitant du service. "
        + ASK_OPERATOR,
        code="registration_link_missing",
    )


@bp.get("/register/<token>")
def start(token: str) -> Response:
    """Check the link, then the platform's configuration, and ask the admin to confirm."""
    session = db.session()
    link = find_usable_link(session, token)
    config_url = request.args.get("openid_configuration", "")
    registration_token = request.args.get("registration_token") or None
    settings = adapter.settings()
    config = load_platform_configuration(
        config_url, registration_token, adapter.document_http(), settings.is_production
    )
    g.registration_origins = _origins(config.issuer, config_url)
    pending, csrf = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    entry = {
        "link": link.id,
        "config_url": config_url,
        "config": config.raw,
        "token": registration_token,
        "csrf": csrf,
    }
    if len(json.dumps(entry)) > MAX_PENDING_BYTES:
        raise _upstream("La configuration de la plateforme est anormalement volumineuse.")
    adapter.store().set(f"dynreg:{pending}", entry, PENDING_TTL_S)
    page = render_template(
        "lti/registration.html",
        title="Enregistrer l'outil",
        platform=platform_label(config),
        issuer=config.issuer,
        organisation=link.organisation,
        approval_required=settings.registration_approval,
        action=url_for("lti_registration.finish", token=token),
        pending=pending,
        csrf=csrf,
    )
    return _framed(Response(page, mimetype="text/html"))


@bp.post("/register/<token>")
def finish(token: str) -> Response:
    """Spend a use of the link, send our registration, store it, close the LMS window."""
    pending_id = request.form.get("pending", "")
    pending = adapter.store().pop(f"dynreg:{pending_id}") if _PENDING_ID.match(pending_id) else None
    if not isinstance(pending, dict):
        raise RegistrationError(
            "Cette demande d'enregistrement a expiré ou a déjà été utilisée. Relancez "
            "l'enregistrement depuis votre plateforme.",
            code="registration_expired",
        )
    settings = adapter.settings()
    config = PlatformConfiguration.check(
        pending["config"], pending["config_url"], settings.is_production
    )
    g.registration_origins = _origins(config.issuer, config.config_url)
    if not hmac.compare_digest(str(request.form.get("csrf", "")), str(pending["csrf"])):
        raise RegistrationError(
            "Le formulaire d'enregistrement n'est pas valide (jeton de sécurité).",
            code="bad_csrf",
            status=403,
        )
    link = find_usable_link(db.session(), token)
    if link.id != pending.get("link"):
        raise RegistrationLinkError(
            "Cette demande n'a pas été ouverte avec ce lien d'enregistrement. " + ASK_OPERATOR
        )
    link_id = link.id
    with db.transaction() as session:
        if not take_use(session, link_id):
            raise RegistrationLinkError(
                "Ce lien d'enregistrement vient de servir. " + ASK_OPERATOR,
                code="registration_link_used",
            )
    body = build_client_registration(settings.base_url, config)
    try:
        answer = send_registration(config, body, pending.get("token"), adapter.document_http())
        with db.transaction() as session:
            current_link = session.get(RegistrationLink, link_id)
            if current_link is None:  # removed with its organisation meanwhile
                raise RegistrationLinkError(ASK_OPERATOR)
            platform, deployment_id = store_registration(
                session, config, answer, current_link, settings.registration_approval
            )
            label, status, platform_id = platform.name, platform.status, platform.id
    except ServiceError:
        with db.transaction() as session:
            give_back_use(session, link_id)
        raise
    log.info(
        "dynamic registration stored: platform %s (%s), link %s, deployment %s",
        platform_id,
        status,
        link_id,
        deployment_id or "-",
    )
    page = render_template(
        "lti/registration_done.html",
        title="Outil enregistré",
        platform=label,
        deployment_id=deployment_id,
        pending=status == "pending",
    )
    return _framed(Response(page, mimetype="text/html"))


@bp.errorhandler(ServiceError)
def _refused(exc: ServiceError) -> Response:
    log.info("dynamic registration refused: %s (%s)", exc.code, exc.status)
    return _framed(
        render_error(exc.status, exc.code, exc.title, exc.message, exc.details, exc.hint)
    )


# ---------------------------------------------------------------------------- helpers


def _framed(response: Response) -> Response:
    """Let the registering LMS frame these pages (it is not yet a known platform)."""
    origins = getattr(g, "registration_origins", None) or _origins(
        request.args.get("openid_configuration", "")
    )
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors " + " ".join(["'self'", *origins])
    )
    return response


def _origins(*urls: str) -> list[str]:
    found = []
    for url in urls:
        parts = urlsplit(url or "")
        origin = f"{parts.scheme}://{parts.netloc}"
        if parts.scheme in {"http", "https"} and parts.netloc and origin not in found:
            found.append(origin)
    return found


def _issuer_prefixes(issuer: str, config_url: str) -> bool:
    """The configuration URL starts with the issuer, on a path boundary (§3.5.1)."""
    if not issuer or not config_url.startswith(issuer):
        return False
    rest = config_url[len(issuer) :]
    return issuer.endswith("/") or rest == "" or rest[0] in "/?#"


def _url_field(raw: dict[str, Any], name: str, require_https: bool) -> str:
    value = raw.get(name)
    parts = urlsplit(value) if isinstance(value, str) else None
    schemes = {"https"} if require_https else {"http", "https"}
    if parts is None or parts.scheme not in schemes or not parts.netloc:
        raise _bad_config(f"« {name} » doit être une URL {'https' if require_https else 'http(s)'}")
    return str(value)


def _without_token(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "registration_token"]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _bad_config(why: str) -> RegistrationError:
    return RegistrationError(
        f"La configuration de la plateforme est incomplète ou invalide : {why}.",
        code="bad_platform_configuration",
    )


_UNREACHABLE_CONFIG = (
    "La configuration de la plateforme n'a pas pu être lue (adresse injoignable, refusée ou "
    "réponse invalide). Vérifiez que la plateforme est accessible depuis internet, puis "
    "relancez l'enregistrement."
)


def _reason(exc: Exception) -> str:
    """A short reason for the log: the exception's kind and our own text, never a body."""
    if isinstance(exc, AddressRefusedError | ResponseTooLargeError | DeadlineExceededError):
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__


def _upstream(message: str, code: str = "platform_unavailable") -> RegistrationError:
    return RegistrationError(message, code=code, status=502)
