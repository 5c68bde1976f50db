"""One upload limit, from one setting (`max_upload_mb`), said with the same French words
wherever it is enforced: the placement form, the learner's browser, and the server.

- A file may weigh at most ``file_limit_mb``: the assessment's own limit, never more than
  the setting (older placements may have asked for more).
- One send (text and files together) may weigh at most the setting; the server's request cap
  (``MAX_CONTENT_LENGTH``) is the setting plus room for the form's other fields.
- When the server refuses a send as too large (413), the request's form was never parsed:
  `read_leading_fields` reads the multipart body itself, keeping the small fields (the typed
  text, the launch, the CSRF token) and the names of the files, so the learner's text is saved
  and shown again instead of being lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from ltiservice.models import Assessment

CHUNK = 64 * 1024
# A refused body is still read (and dropped) up to this many times the cap: a browser that is
# cut off mid-upload shows a network error instead of our page. Beyond it, the connection ends.
DRAIN_FACTOR = 8
FIELD_LIMIT = 2 * 1024 * 1024  # the text is at most 100 000 characters


def request_limit_mb(settings: Any) -> int:
    """What one send may weigh (the `max_upload_mb` setting)."""
    return int(settings.max_upload_mb)


def file_limit_mb(assessment: Assessment, settings: Any) -> int:
    """What one file may weigh on this assessment."""
    return min(int(assessment.max_file_mb), request_limit_mb(settings))


def _mb(limit_mb: float) -> str:
    return f"{limit_mb:g} Mo".replace(".", ",")


def too_big_message(name: str, limit_mb: float) -> str:
    """A file over the per-file limit (also built by the page's script, same words)."""
    return f"« {name} » : le fichier dépasse la taille maximale de {_mb(limit_mb)}."


def too_much_message(limit_mb: float) -> str:
    """Files that together exceed what one send may weigh."""
    return (
        f"Les fichiers choisis dépassent ensemble la taille maximale d'un envoi "
        f"({_mb(limit_mb)}) : joignez-les en plusieurs fois."
    )


def refusal_message(file_names: list[str], file_limit: float, request_limit: float) -> str:
    """The server's words for a send refused as too large (the script says the same)."""
    if len(file_names) == 1:
        return too_big_message(file_names[0], file_limit)
    return too_much_message(request_limit)


@dataclass
class LeadingFields:
    """What a refused multipart body carried besides the file contents."""

    fields: dict[str, str] = field(default_factory=dict)
    file_names: list[str] = field(default_factory=list)


def read_leading_fields(environ: Mapping[str, Any], boundary: str, cap: int) -> LeadingFields:
    """Read a multipart body that is over the request cap, keeping only its small fields and
    its files' names. Reads at most ``DRAIN_FACTOR * cap`` bytes."""
    found = LeadingFields()
    stream = environ["wsgi.input"]
    try:
        remaining = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        remaining = 0
    remaining = min(remaining, DRAIN_FACTOR * cap)
    decoder = MultipartDecoder(boundary.encode("latin-1"), max_form_memory_size=FIELD_LIMIT)
    name: str | None = None
    value = bytearray()
    while remaining > 0:
        chunk = stream.read(min(CHUNK, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
        decoder.receive_data(chunk)
        event = decoder.next_event()
        while not isinstance(event, NeedData | Epilogue):
            if isinstance(event, File):
                if event.filename:  # an empty file field sends a part with no name
                    found.file_names.append(event.filename)
                name = None
            elif isinstance(event, Field):
                name, value = event.name, bytearray()
            elif isinstance(event, Data) and name is not None:
                if len(value) + len(event.data) <= FIELD_LIMIT:
                    value += event.data
                if not event.more_data:
                    found.fields[name] = value.decode("utf-8", "replace")
                    name = None
            event = decoder.next_event()
        if isinstance(event, Epilogue):
            break
    return found
