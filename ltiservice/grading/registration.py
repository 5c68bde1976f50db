"""Whether a referential's RNCP registration still runs, and whether it may still be delivered.

Pure: no Flask, no database. A fiche is registered « jusqu'au » its end date, that day
included. After it, the certification may only take candidates who started before (placement
asks the administrator to confirm it), and it may be delivered until the fiche's « date de
dernière délivrance possible ». A fiche that states no such date gives no delivery period after
the end of registration: the last delivery date is then the end date itself (docs/gradebook.md).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal

from ltiservice.grading.referential import Referential


@dataclass(frozen=True)
class RegistrationStatus:
    """A referential's registration on one day, with the French sentence that explains it."""

    state: Literal["active", "expired"]
    end_date: datetime.date | None
    last_delivery_date: datetime.date | None  # as the fiche states it (None: not stated)
    deliverable: bool  # may the certification still be delivered that day
    message: str

    @property
    def expired(self) -> bool:
        return self.state == "expired"


def _day(value: datetime.date) -> str:
    return value.strftime("%d/%m/%Y")


def last_delivery_day(referential: Referential) -> datetime.date | None:
    """The last day a delivery is lawful: the stated date, else the end of registration."""
    certification = referential.certification
    return certification.last_delivery_date or certification.registration_end_date


def registration_status(referential: Referential, on: datetime.date) -> RegistrationStatus:
    """The registration of ``referential`` on day ``on``."""
    certification = referential.certification
    name = certification.rncp_code or f"{certification.code} {certification.version}"
    end = certification.registration_end_date
    stated = certification.last_delivery_date
    last = last_delivery_day(referential)
    deliverable = last is None or on <= last
    if end is None:
        message = f"Aucune date de fin d'enregistrement au RNCP n'est connue pour {name}."
        return RegistrationStatus("active", None, stated, deliverable, message)
    if on <= end:
        message = f"La certification {name} est enregistrée au RNCP jusqu'au {_day(end)}."
        return RegistrationStatus("active", end, stated, deliverable, message)
    message = (
        f"L'enregistrement au RNCP de la certification {name} a pris fin le {_day(end)} : "
        "seuls les candidats entrés en parcours avant cette date peuvent encore s'y présenter."
    )
    if stated is not None:
        message += f" Date de dernière délivrance possible : {_day(stated)}."
    else:
        message += (
            " La fiche ne donne pas de date de dernière délivrance possible : aucune "
            f"délivrance après le {_day(end)}."
        )
    if not deliverable:
        message += " La certification ne peut plus être délivrée."
    return RegistrationStatus("expired", end, stated, deliverable, message)
