"""Delivers queued AGS scores to the platform's gradebook (an outbox deliverer)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from ltiservice.grades import AGS_SCORE
from ltiservice.lti.services import Score, ServiceCallError, ServiceConflictError, ags_client
from ltiservice.models import Assessment, OutboxMessage, Platform
from ltiservice.outbox import (
    BatchDelivery,
    Deliverer,
    PermanentDeliveryError,
    RetryableDeliveryError,
)


def score_from_payload(data: dict[str, Any]) -> Score:
    return Score(
        user_id=data["userId"],
        score_given=data.get("scoreGiven"),
        score_maximum=data.get("scoreMaximum"),
        activity_progress=data["activityProgress"],
        grading_progress=data["gradingProgress"],
        timestamp=datetime.fromisoformat(data["timestamp"]),
        comment=data.get("comment"),
    )


def ags_deliverer(app: Flask) -> Deliverer:
    """The deliverer of `ags_score` messages, on the app's token cache and HTTP session."""

    def deliver(db: Session, message: OutboxMessage) -> None:
        assessment = db.get(Assessment, message.payload["assessment_id"])
        if assessment is None:
            raise PermanentDeliveryError("l'évaluation a été supprimée")
        platform = db.get(Platform, assessment.platform_id)
        if platform is None:
            raise PermanentDeliveryError("la plateforme a été supprimée")
        client = ags_client(platform, app)
        try:
            lineitem_url = assessment.lineitem_url or _create_line_item(db, client, assessment)
            client.post_score(lineitem_url, score_from_payload(message.payload["score"]))
        except ServiceConflictError:
            # 409: the platform already holds this score or a newer one (a retry after a
            # timeout that did land, or a later decision): nothing left to deliver.
            return
        except ServiceCallError as exc:
            reason = exc.message + (f" ({exc.platform_message})" if exc.platform_message else "")
            if exc.retryable:
                raise RetryableDeliveryError(reason, exc.retry_after_s) from exc
            raise PermanentDeliveryError(reason) from exc

    return deliver


def _create_line_item(db: Session, client: Any, assessment: Assessment) -> str:
    if not assessment.lineitems_url:
        raise PermanentDeliveryError(
            "la plateforme n'a fourni aucun service de notes (AGS) pour cette activité"
        )
    item = client.find_or_create_line_item(
        assessment.lineitems_url,
        resource_id=assessment.resource_id,
        resource_link_id=assessment.resource_link_id,
        label=assessment.title,
        score_maximum=assessment.score_maximum,
        tag=f"ltiservice:{assessment.certification_code}:{assessment.block_code}",
    )
    assessment.lineitem_url = item.id
    db.commit()
    return str(item.id)


def deliverers(app: Flask) -> dict[str, Deliverer | BatchDelivery]:
    """Every outbox kind the service knows how to deliver (xAPI statements in batches)."""
    registry: dict[str, Deliverer | BatchDelivery] = {AGS_SCORE: ags_deliverer(app)}
    from ltiservice.xapi_delivery import xapi_deliverers

    registry.update(xapi_deliverers(app))
    return registry
