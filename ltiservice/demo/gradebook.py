"""The demo course as the demo platform holds it: activities, line items and scores.

Kept in the SharedStore (database or Redis) under a few keys with a long lifetime: the demo
needs no table of its own. Two workers writing the same line item's scores at the same
instant could lose one write; that is acceptable for a demonstration, not for an LMS.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from ltiservice.demo.platform import DemoUrls
from ltiservice.errors import ConflictError, NotFoundError, ServiceError
from ltiservice.lti.store import SharedStore

LIFETIME_S = 365 * 86400
ACTIVITIES = "demo:activities"
LINEITEMS = "demo:lineitems"
ACTIVITY_PROGRESS = {"Initialized", "Started", "InProgress", "Submitted", "Completed"}
GRADING_PROGRESS = {"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}


class Gradebook:
    """Activities (resource links), line items and scores of the demo course."""

    def __init__(self, store: SharedStore, urls: DemoUrls) -> None:
        self._store = store
        self._urls = urls

    # -- activities

    def activities(self) -> list[dict[str, Any]]:
        """Resource links placed in the demo course, oldest first."""
        return list(self._store.get(ACTIVITIES) or [])

    def activity(self, resource_link_id: str) -> dict[str, Any] | None:
        return next((a for a in self.activities() if a["id"] == resource_link_id), None)

    def add_activity(
        self,
        title: str,
        custom: dict[str, str] | None = None,
        line_item: dict[str, Any] | None = None,
        resource_link_id: str | None = None,
    ) -> dict[str, Any]:
        """Place a resource link (and its line item, as Moodle does for deep-linked items)."""
        link_id = resource_link_id or "demo-link-" + secrets.token_hex(6)
        existing = self.activity(link_id)
        if existing is not None:
            return existing
        activity: dict[str, Any] = {"id": link_id, "title": title, "custom": custom or {}}
        if line_item is not None:
            item = self.create_line_item({**line_item, "resourceLinkId": link_id})
            activity["lineitem"] = item["id"]
        self._store.set(ACTIVITIES, [*self.activities(), activity], LIFETIME_S)
        return activity

    # -- line items

    def line_items(self, **filters: str | None) -> list[dict[str, Any]]:
        """Line items matching the AGS filters (resource_link_id, resource_id, tag)."""
        names = {"resource_link_id": "resourceLinkId", "resource_id": "resourceId", "tag": "tag"}
        items = list(self._store.get(LINEITEMS) or [])
        for name, value in filters.items():
            if value is not None:
                items = [i for i in items if i.get(names[name]) == value]
        return items

    def line_item(self, item_id: str) -> dict[str, Any]:
        for item in self._store.get(LINEITEMS) or []:
            if item["id"] == self._urls.lineitem(item_id):
                return dict(item)
        raise NotFoundError("Colonne de notes inconnue.", code="unknown_lineitem")

    def create_line_item(self, data: dict[str, Any]) -> dict[str, Any]:
        """A new line item from an AGS body (label and a positive scoreMaximum required)."""
        label = data.get("label")
        maximum = data.get("scoreMaximum")
        if not isinstance(label, str) or not label.strip():
            raise ServiceError("label est obligatoire.", code="invalid_lineitem")
        if not isinstance(maximum, int | float) or isinstance(maximum, bool) or maximum <= 0:
            raise ServiceError("scoreMaximum doit être un nombre > 0.", code="invalid_lineitem")
        item = {
            k: data[k]
            for k in ("resourceId", "resourceLinkId", "tag", "startDateTime", "endDateTime")
            if isinstance(data.get(k), str)
        }
        item.update(id=self._urls.lineitem(secrets.token_hex(6)), label=label, scoreMaximum=maximum)
        self._store.set(LINEITEMS, [*(self._store.get(LINEITEMS) or []), item], LIFETIME_S)
        return item

    # -- scores

    def scores(self, item_id: str) -> dict[str, dict[str, Any]]:
        """The latest score per user of a line item, with how many were received."""
        return dict(self._store.get(f"demo:scores:{item_id}") or {})

    def post_score(self, item_id: str, body: Any) -> dict[str, Any]:
        """Record a score; 409 when its timestamp is not strictly newer (as Moodle does)."""
        self.line_item(item_id)
        score = _checked_score(body)
        scores = self.scores(item_id)
        previous = scores.get(score["userId"])
        stamp = datetime.fromisoformat(score["timestamp"])
        if previous and datetime.fromisoformat(previous["timestamp"]) >= stamp:
            raise ConflictError("Une note plus récente est déjà enregistrée.", code="stale_score")
        received = (previous or {}).get("received", 0) + 1
        scores[score["userId"]] = {**score, "received": received}
        self._store.set(f"demo:scores:{item_id}", scores, LIFETIME_S)
        return scores[score["userId"]]


def _checked_score(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ServiceError("Un objet JSON est attendu.", code="invalid_score")
    if not isinstance(body.get("userId"), str) or not body["userId"]:
        raise ServiceError("userId est obligatoire.", code="invalid_score")
    if body.get("activityProgress") not in ACTIVITY_PROGRESS:
        raise ServiceError("activityProgress invalide.", code="invalid_score")
    if body.get("gradingProgress") not in GRADING_PROGRESS:
        raise ServiceError("gradingProgress invalide.", code="invalid_score")
    try:
        stamp = datetime.fromisoformat(str(body.get("timestamp")))
    except ValueError as exc:
        raise ServiceError("timestamp illisible.", code="invalid_score") from exc
    if stamp.tzinfo is None:
        raise ServiceError("timestamp doit porter un fuseau.", code="invalid_score")
    given = body.get("scoreGiven")
    if given is not None:
        maximum = body.get("scoreMaximum")
        if not isinstance(maximum, int | float) or maximum <= 0:
            raise ServiceError(
                "scoreMaximum est obligatoire avec scoreGiven.", code="invalid_score"
            )
        if not isinstance(given, int | float) or given < 0:
            raise ServiceError("scoreGiven doit être un nombre >= 0.", code="invalid_score")
    keep = ("userId", "scoreGiven", "scoreMaximum", "activityProgress", "gradingProgress")
    score = {k: body[k] for k in keep if body.get(k) is not None}
    score["timestamp"] = body["timestamp"]
    if isinstance(body.get("comment"), str):
        score["comment"] = body["comment"]
    return score
