"""Deep Linking responses: the signed JWT that places our activity in the LMS."""

from __future__ import annotations

from typing import Any, cast

from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from ltiservice.errors import LaunchError
from ltiservice.lti import adapter

DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DEPLOYMENT = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"


def launch_body(launch_id: str) -> dict[str, Any]:
    """The validated launch's claims, as stored at launch time."""
    body = adapter.store().get(launch_id)
    if not isinstance(body, dict):
        raise LaunchError(
            "Ce lancement a expiré : relancez la sélection depuis votre plateforme.",
            code="launch_expired",
            status=401,
        )
    return body


def deep_link_settings(body: dict[str, Any]) -> dict[str, Any]:
    settings = body.get(DL_SETTINGS)
    if not isinstance(settings, dict) or not settings.get("deep_link_return_url"):
        raise LaunchError(
            "La plateforme n'a pas fourni d'adresse de retour pour le placement.",
            code="bad_deep_link",
            status=400,
        )
    if "ltiResourceLink" not in (settings.get("accept_types") or []):
        raise LaunchError(
            "La plateforme n'accepte pas de lien d'activité ici.", code="bad_deep_link", status=400
        )
    return settings


def build_response(
    body: dict[str, Any],
    *,
    title: str,
    custom: dict[str, str],
    score_maximum: float,
    resource_id: str,
    tag: str,
) -> tuple[str, str]:
    """(return URL, signed JWT) for one ltiResourceLink with its line item."""
    settings = deep_link_settings(body)
    registration = adapter.tool_conf().find_registration_by_params(body["iss"], _client_id(body))
    if registration is None:
        raise LaunchError("Plateforme inconnue.", code="unknown_registration")
    line_item = (
        LineItem()
        .set_label(title)
        .set_score_maximum(score_maximum)
        .set_resource_id(resource_id)
        .set_tag(tag)
    )
    resource = (
        DeepLinkResource()
        .set_type("ltiResourceLink")
        .set_title(title)
        .set_url(adapter.launch_url())
        .set_custom_params(custom)
        .set_lineitem(line_item)
    )
    deep_link = DeepLink(registration, body[DEPLOYMENT], cast(Any, settings))
    message = deep_link.get_message_jwt([resource])
    # pylti1p3 sends "data": null when the platform sent none; the spec wants it absent.
    if message.get(DL_DATA) is None:
        message.pop(DL_DATA, None)
    return settings["deep_link_return_url"], deep_link.encode_jwt(message)


def _client_id(body: dict[str, Any]) -> str:
    aud = body.get("aud")
    if isinstance(aud, list):
        return str(body.get("azp") or aud[0])
    return str(aud)
