"""LTI Assignment and Grade Services 2.0 client: line items, scores, results.

Usable outside a request: build it from a Platform row (or `PlatformAuth`), a TokenProvider,
a `requests.Session` and a timeout; `ltiservice.lti.services.ags_client` does that from the app.
Line item and results URLs are the platform's (launch claim or stored), used as given.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from ltiservice.lti.services.errors import ServiceCallError
from ltiservice.lti.services.token import PlatformAuth, TokenProvider
from ltiservice.lti.services.transport import ServiceTransport, json_of
from ltiservice.models import Platform

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
AGS_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)

MEDIA_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_LINEITEMS = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MEDIA_SCORE = "application/vnd.ims.lis.v1.score+json"
MEDIA_RESULTS = "application/vnd.ims.lis.v2.resultcontainer+json"

ACTIVITY_PROGRESS = frozenset({"Initialized", "Started", "InProgress", "Submitted", "Completed"})
GRADING_PROGRESS = frozenset({"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"})


@dataclass(frozen=True)
class LineItem:
    """A gradebook column. `id` is its URL (None before creation)."""

    label: str
    score_maximum: float
    id: str | None = None
    resource_id: str | None = None
    resource_link_id: str | None = None
    tag: str | None = None
    start_date_time: str | None = None
    end_date_time: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    _FIELDS = (
        ("id", "id"),
        ("label", "label"),
        ("score_maximum", "scoreMaximum"),
        ("resource_id", "resourceId"),
        ("resource_link_id", "resourceLinkId"),
        ("tag", "tag"),
        ("start_date_time", "startDateTime"),
        ("end_date_time", "endDateTime"),
    )

    def to_json(self) -> dict[str, Any]:
        """The AGS representation; platform-specific extra fields are sent back untouched."""
        body = dict(self.extra)
        for attr, name in self._FIELDS:
            value = getattr(self, attr)
            if value is not None:
                body[name] = value
        return body

    @classmethod
    def from_json(cls, data: Any) -> LineItem:
        if not isinstance(data, dict) or not data.get("label") or "scoreMaximum" not in data:
            raise ServiceCallError(
                "La plateforme a renvoyé une colonne de notes incomplète.", retryable=False
            )
        known = {name for _, name in cls._FIELDS}
        values: dict[str, Any] = {attr: data.get(name) for attr, name in cls._FIELDS}
        values["score_maximum"] = float(data["scoreMaximum"])
        extra = {k: v for k, v in data.items() if k not in known}
        return cls(**values, extra=extra)


@dataclass(frozen=True)
class Score:
    """One score publication (AGS §3.4). `timestamp` must be timezone-aware and must increase
    for a given user and line item: platforms refuse an older or equal one (409)."""

    user_id: str
    score_given: float | None
    score_maximum: float | None
    activity_progress: str
    grading_progress: str
    timestamp: datetime
    comment: str | None = None

    def __post_init__(self) -> None:
        if not self.user_id:
            raise ValueError("Score.user_id is required")
        if self.activity_progress not in ACTIVITY_PROGRESS:
            raise ValueError(f"Score.activity_progress must be one of {sorted(ACTIVITY_PROGRESS)}")
        if self.grading_progress not in GRADING_PROGRESS:
            raise ValueError(f"Score.grading_progress must be one of {sorted(GRADING_PROGRESS)}")
        if self.timestamp.tzinfo is None or self.timestamp.utcoffset() is None:
            raise ValueError("Score.timestamp must be timezone-aware")
        if self.score_given is not None:
            if self.score_maximum is None or not _positive(self.score_maximum):
                raise ValueError("Score.score_maximum (> 0) is required with score_given")
            if not math.isfinite(self.score_given) or self.score_given < 0:
                raise ValueError("Score.score_given must be a finite number >= 0")

    def to_json(self) -> dict[str, Any]:
        """The score media type body; scoreGiven omitted when None, ISO 8601 with offset."""
        body: dict[str, Any] = {
            "userId": self.user_id,
            "activityProgress": self.activity_progress,
            "gradingProgress": self.grading_progress,
            "timestamp": self.timestamp.isoformat(timespec="milliseconds"),
        }
        if self.score_given is not None:
            body["scoreGiven"] = self.score_given
        if self.score_maximum is not None:
            body["scoreMaximum"] = self.score_maximum
        if self.comment is not None:
            body["comment"] = self.comment
        return body


@dataclass(frozen=True)
class Result:
    """A user's current result on a line item, as the platform holds it."""

    user_id: str
    result_score: float | None
    result_maximum: float | None
    comment: str | None = None
    id: str | None = None
    score_of: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> Result:
        if not isinstance(data, dict) or not data.get("userId"):
            raise ServiceCallError(
                "La plateforme a renvoyé un résultat illisible.", retryable=False
            )
        score, maximum = data.get("resultScore"), data.get("resultMaximum")
        return cls(
            user_id=str(data["userId"]),
            result_score=None if score is None else float(score),
            result_maximum=None if maximum is None else float(maximum),
            comment=data.get("comment"),
            id=data.get("id"),
            score_of=data.get("scoreOf"),
        )


class AgsClient:
    """Line items, scores and results of one platform."""

    def __init__(
        self,
        platform: Platform | PlatformAuth,
        tokens: TokenProvider,
        http: requests.Session,
        timeout: float,
    ) -> None:
        self._transport = ServiceTransport(platform, tokens, http, timeout)

    # -- line items

    def line_items(
        self,
        lineitems_url: str,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
    ) -> list[LineItem]:
        """Every line item of the context matching the filters, all pages followed."""
        params = {
            k: v
            for k, v in {
                "resource_link_id": resource_link_id,
                "resource_id": resource_id,
                "tag": tag,
                "limit": str(limit) if limit else None,
            }.items()
            if v is not None
        }
        items: list[LineItem] = []
        for page in self._transport.pages(
            lineitems_url,
            [SCOPE_LINEITEM_READONLY],
            "lecture des colonnes de notes",
            accept=MEDIA_LINEITEMS,
            params=params or None,
        ):
            body = json_of(page, "lecture des colonnes de notes")
            if not isinstance(body, list):
                raise ServiceCallError(
                    "La liste des colonnes de notes est illisible.", retryable=False
                )
            items.extend(LineItem.from_json(entry) for entry in body)
        return items

    def line_item(self, lineitem_url: str) -> LineItem:
        """One line item by its URL."""
        response = self._transport.request(
            "GET",
            lineitem_url,
            [SCOPE_LINEITEM_READONLY],
            "lecture d'une colonne de notes",
            accept=MEDIA_LINEITEM,
        )
        return LineItem.from_json(json_of(response, "lecture d'une colonne de notes"))

    def create_line_item(self, lineitems_url: str, item: LineItem) -> LineItem:
        """Create a line item in the context; returns it with the platform's `id`."""
        response = self._transport.request(
            "POST",
            lineitems_url,
            [SCOPE_LINEITEM],
            "création d'une colonne de notes",
            accept=MEDIA_LINEITEM,
            content_type=MEDIA_LINEITEM,
            json_body={k: v for k, v in item.to_json().items() if k != "id"},
        )
        return LineItem.from_json(json_of(response, "création d'une colonne de notes"))

    def update_line_item(self, item: LineItem) -> LineItem:
        """Replace a line item (PUT on its `id`)."""
        if not item.id:
            raise ValueError("update_line_item needs a line item with its id")
        response = self._transport.request(
            "PUT",
            item.id,
            [SCOPE_LINEITEM],
            "mise à jour d'une colonne de notes",
            accept=MEDIA_LINEITEM,
            content_type=MEDIA_LINEITEM,
            json_body=item.to_json(),
        )
        return LineItem.from_json(json_of(response, "mise à jour d'une colonne de notes"))

    def find_or_create_line_item(
        self,
        lineitems_url: str,
        *,
        resource_id: str,
        resource_link_id: str | None,
        label: str,
        score_maximum: float,
        tag: str | None = None,
    ) -> LineItem:
        """The line item with this resource_id (and resource link), created when absent.

        Filters are checked again here: some platforms ignore unknown query parameters.
        """
        for item in self.line_items(
            lineitems_url, resource_id=resource_id, resource_link_id=resource_link_id
        ):
            if item.resource_id == resource_id and (
                resource_link_id is None or item.resource_link_id == resource_link_id
            ):
                return item
        return self.create_line_item(
            lineitems_url,
            LineItem(
                label=label,
                score_maximum=score_maximum,
                resource_id=resource_id,
                resource_link_id=resource_link_id,
                tag=tag,
            ),
        )

    # -- scores and results

    def post_score(self, lineitem_url: str, score: Score) -> None:
        """Publish a score; a non-increasing timestamp raises ServiceConflictError (409)."""
        self._transport.request(
            "POST",
            service_url(lineitem_url, "scores"),
            [SCOPE_SCORE],
            "envoi d'une note",
            content_type=MEDIA_SCORE,
            json_body=score.to_json(),
        )

    def results(
        self, lineitem_url: str, *, user_id: str | None = None, limit: int | None = None
    ) -> list[Result]:
        """Current results of the line item (one user's with `user_id`), all pages followed."""
        params = {k: v for k, v in {"user_id": user_id, "limit": limit and str(limit)}.items() if v}
        return list(self._iter_results(lineitem_url, params or None))

    def _iter_results(self, lineitem_url: str, params: dict[str, str] | None) -> Iterator[Result]:
        for page in self._transport.pages(
            service_url(lineitem_url, "results"),
            [SCOPE_RESULT_READONLY],
            "lecture des résultats",
            accept=MEDIA_RESULTS,
            params=params,
        ):
            body = json_of(page, "lecture des résultats")
            if not isinstance(body, list):
                raise ServiceCallError("La liste des résultats est illisible.", retryable=False)
            yield from (Result.from_json(entry) for entry in body)


def service_url(lineitem_url: str, leaf: str) -> str:
    """`<line item>/scores` or `/results`, keeping the line item URL's query (Moodle has one)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + leaf))


def _positive(value: float) -> bool:
    return math.isfinite(value) and value > 0
