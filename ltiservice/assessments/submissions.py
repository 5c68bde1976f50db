"""A learner's work on an assessment: drafts, files, submitting, attempts, receipts.

The text is plain text with line breaks, not rich text: nothing to sanitise (Jinja escapes it,
CSS keeps the line breaks), nothing for a screen-reader user to fight with, and the formatted
work goes in the attached documents, which is how these cases are handed in.

Functions flush; the caller commits (`db.transaction()`), so a submission and the AGS score it
queues are stored together or not at all.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ltiservice import events
from ltiservice.assessments import files
from ltiservice.errors import ConflictError, NotFoundError, ServiceError
from ltiservice.models import (
    Assessment,
    Decision,
    LedgerEntry,
    Person,
    Submission,
    SubmissionFile,
)

MAX_TEXT = 100_000


class Upload(Protocol):
    """What a view hands over for one file (werkzeug's FileStorage fits)."""

    @property
    def filename(self) -> str | None: ...

    @property
    def stream(self) -> IO[bytes]: ...


class DeadlinePassedError(ConflictError):
    code = "deadline_passed"
    title = "Date limite dépassée"


@dataclass(frozen=True)
class UploadReport:
    """Files stored and, for each refused file, the French reason naming it."""

    stored: tuple[SubmissionFile, ...]
    refused: tuple[str, ...]


@dataclass(frozen=True)
class ReceiptFile:
    filename: str
    size: int
    sha256: str
    content_type: str


@dataclass(frozen=True)
class Receipt:
    """Proof of what was handed in and when."""

    submission_id: int
    attempt: int
    submitted_at: datetime
    text_characters: int
    files: tuple[ReceiptFile, ...]


def now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def deadline_passed(assessment: Assessment, at: datetime | None = None) -> bool:
    return assessment.deadline is not None and (at or now()) > _aware(assessment.deadline)


def _check_deadline(assessment: Assessment) -> None:
    if deadline_passed(assessment):
        raise DeadlinePassedError(
            "La date limite de remise est passée : le travail ne peut plus être modifié ni remis."
        )


def attempts_of(db: Session, assessment: Assessment, person_id: int) -> list[Submission]:
    """Every attempt of a learner, oldest first."""
    return list(
        db.scalars(
            select(Submission)
            .where(Submission.assessment_id == assessment.id, Submission.person_id == person_id)
            .order_by(Submission.attempt)
        )
    )


def latest_submission(db: Session, assessment: Assessment, person_id: int) -> Submission | None:
    return db.scalar(
        select(Submission)
        .where(Submission.assessment_id == assessment.id, Submission.person_id == person_id)
        .order_by(Submission.attempt.desc())
        .limit(1)
    )


AWAITING_GRADING = ("submitted", "under_evaluation")


@dataclass(frozen=True)
class AttemptRights:
    """Whether the learner may open a new attempt now, and if not, why (in French)."""

    used: int  # attempts opened so far
    maximum: int
    reason: str | None = None  # None: a new attempt may be opened
    code: str | None = None

    @property
    def allowed(self) -> bool:
        return self.reason is None

    @property
    def remaining(self) -> int:
        return max(self.maximum - self.used, 0)


def block_acquired(db: Session, assessment: Assessment, person_id: int) -> bool:
    """Whether the learner holds this assessment's block (ledger, or the decision in force)."""
    held = db.scalar(
        select(LedgerEntry.id).where(
            LedgerEntry.person_id == person_id,
            LedgerEntry.certification_code == assessment.certification_code,
            LedgerEntry.referential_version == assessment.referential_version,
            LedgerEntry.block_code == assessment.block_code,
        )
    )
    if held is not None:
        return True
    superseded = select(Decision.supersedes_id).where(Decision.supersedes_id.is_not(None))
    standing = db.scalar(
        select(Decision.block_acquired)
        .join(Submission, Decision.submission_id == Submission.id)
        .where(
            Submission.assessment_id == assessment.id,
            Submission.person_id == person_id,
            Decision.id.not_in(superseded),
        )
        .order_by(Decision.id.desc())
        .limit(1)
    )
    return bool(standing)


def attempt_rights(
    db: Session,
    assessment: Assessment,
    person_id: int,
    attempts: list[Submission] | None = None,
) -> AttemptRights:
    """A new attempt only after a handed-in one, while none awaits grading, the block is not
    acquired, attempts remain and the deadline has not passed. ``attempts``: the learner's
    attempts when the caller has just read them (`attempts_of`), to spare the query."""
    if attempts is None:
        attempts = attempts_of(db, assessment, person_id)
    used = attempts[-1].attempt if attempts else 0
    maximum = assessment.max_attempts

    def refused(code: str, reason: str) -> AttemptRights:
        return AttemptRights(used, maximum, reason, code)

    if not attempts or attempts[-1].status == "draft":
        return refused(
            "attempt_open", "Une tentative est déjà ouverte : terminez-la et remettez-la."
        )
    waiting = [a.attempt for a in attempts if a.status in AWAITING_GRADING]
    if waiting:
        return refused(
            "awaiting_grading",
            f"Votre tentative n° {waiting[0]} attend son évaluation : une nouvelle tentative "
            "ne sera possible qu'après la décision du jury, si le bloc n'est pas acquis.",
        )
    if block_acquired(db, assessment, person_id):
        return refused(
            "block_acquired", "Le bloc est acquis : aucune nouvelle tentative n'est nécessaire."
        )
    if used >= maximum:
        return refused(
            "no_attempt_left", f"Vous avez utilisé toutes les tentatives permises ({maximum})."
        )
    if deadline_passed(assessment):
        return refused("deadline_passed", "La date limite est passée.")
    return AttemptRights(used, maximum)


def can_start_new_attempt(db: Session, assessment: Assessment, person_id: int) -> bool:
    return attempt_rights(db, assessment, person_id).allowed


def current_draft(db: Session, assessment: Assessment, person: Person) -> Submission:
    """The draft being worked on: attempt 1 is created on first use.

    A frozen attempt is never reopened: once submitted, the next draft exists only after
    `start_new_attempt`, so an autosave racing a submit cannot start an attempt by accident.
    """
    latest = latest_submission(db, assessment, person.id)
    if latest is None:
        return _create_attempt(db, assessment, person, 1)
    if latest.status != "draft":
        raise ConflictError(
            "Ce travail a déjà été remis. Pour le reprendre, démarrez une nouvelle tentative "
            "si votre formateur le permet.",
            code="already_submitted",
        )
    return latest


def _create_attempt(
    db: Session, assessment: Assessment, person: Person, attempt: int
) -> Submission:
    submission = Submission(
        assessment=assessment, person=person, attempt=attempt, status="draft", text=""
    )
    try:
        with db.begin_nested():
            db.add(submission)
    except IntegrityError:
        # Two tabs created the same attempt at once: use the one that won.
        found = db.scalar(
            select(Submission).where(
                Submission.assessment_id == assessment.id,
                Submission.person_id == person.id,
                Submission.attempt == attempt,
            )
        )
        if found is None:
            raise
        return found
    return submission


def _require_draft(submission: Submission) -> None:
    if submission.status != "draft":
        raise ConflictError(
            f"La tentative n° {submission.attempt} a déjà été remise : elle ne peut plus être "
            "modifiée.",
            code="already_submitted",
        )


def clean_text(text: str) -> str:
    """Plain text: Windows line ends unified, control characters other than tab and newline
    dropped, length capped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc")
    if len(text) > MAX_TEXT:
        raise ServiceError(
            f"Le texte dépasse {MAX_TEXT:,} caractères : joignez plutôt un document.".replace(
                ",", "\u202f"
            ),
            code="text_too_long",
            status=413,
        )
    return text


def autosave(db: Session, submission: Submission, text: str) -> datetime:
    """Save the draft's text; returns when it was saved."""
    _require_draft(submission)
    _check_deadline(submission.assessment)
    submission.text = clean_text(text)
    submission.updated_at = now()
    db.flush()
    return submission.updated_at


def add_files(
    db: Session,
    submission: Submission,
    uploads: Sequence[Upload],
    *,
    upload_dir: str,
    max_file_mb: int | None = None,
) -> UploadReport:
    """Store each acceptable upload; each refused one gets a French reason naming it.

    A file may weigh the assessment's limit, capped by ``max_file_mb`` (the service's
    `max_upload_mb`: an older placement may have asked for more than the server accepts).

    A batch that would exceed the assessment's file count is refused whole: keeping the
    first few would be an arbitrary choice the learner did not make.
    """
    _require_draft(submission)
    _check_deadline(submission.assessment)
    assessment = submission.assessment
    present = len(submission.files)
    if present + len(uploads) > assessment.max_files:
        room = max(assessment.max_files - present, 0)
        reason = (
            f"trop de fichiers envoyés ({len(uploads)}) : {assessment.max_files} fichiers au "
            f"plus par travail, {room} encore possible{'s' if room > 1 else ''}."
        )
        names = [files.printable_name(u.filename or "") or "fichier sans nom" for u in uploads]
        return UploadReport((), tuple(f"« {name} » : {reason}" for name in names))
    stored: list[SubmissionFile] = []
    refused: list[str] = []
    for upload in uploads:
        try:
            name = files.clean_filename(upload.filename)
            kept = files.store_upload(
                upload.stream,
                name,
                upload_dir=upload_dir,
                max_bytes=min(assessment.max_file_mb, max_file_mb or assessment.max_file_mb)
                * 1024
                * 1024,
                allowed_extensions=assessment.allowed_extensions or (),
            )
        except (files.FileRefusedError, files.StorageFullError) as exc:
            refused.append(exc.message)
            continue
        row = SubmissionFile(
            filename=kept.filename,
            storage_key=kept.storage_key,
            content_type=kept.content_type,
            size=kept.size,
            sha256=kept.sha256,
        )
        submission.files.append(row)
        stored.append(row)
    try:
        db.flush()
    except BaseException:
        for row in stored:
            files.discard(upload_dir, row.storage_key)
        raise
    return UploadReport(tuple(stored), tuple(refused))


def remove_file(db: Session, submission: Submission, file_id: int) -> str:
    """Remove a file from the draft; returns its storage key, to discard once committed."""
    _require_draft(submission)
    _check_deadline(submission.assessment)
    row = next((f for f in submission.files if f.id == file_id), None)
    if row is None:
        raise NotFoundError("Ce fichier ne fait pas partie de votre brouillon.")
    key = row.storage_key
    submission.files.remove(row)
    db.flush()
    return key


def submit(db: Session, submission: Submission) -> Submission:
    """Freeze the attempt and queue the "submitted" score for the LMS, in this transaction."""
    _require_draft(submission)
    _check_deadline(submission.assessment)
    if not submission.text.strip() and not submission.files:
        raise ConflictError(
            "Votre travail est vide : écrivez votre réponse ou joignez au moins un fichier "
            "avant de le remettre.",
            code="empty_submission",
        )
    at = now()
    # The status test in the UPDATE makes a double click (or two tabs) submit once only.
    frozen = db.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.status == "draft")
        .values(status="submitted", submitted_at=at, updated_at=at)
        .execution_options(synchronize_session=False)
    )
    if frozen.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(
            f"La tentative n° {submission.attempt} a déjà été remise.", code="already_submitted"
        )
    db.refresh(submission)
    events.submission_submitted(db, submission)
    db.flush()
    return submission


def start_new_attempt(
    db: Session, assessment: Assessment, person: Person, *, from_previous: bool = False
) -> Submission:
    """A new draft after a handed-in attempt, when `attempt_rights` allows one.

    ``from_previous`` starts it with the previous attempt's text (the learner's choice; the
    files are not copied: each attempt's files are its own)."""
    _check_deadline(assessment)
    latest = latest_submission(db, assessment, person.id)
    if latest is None:
        return _create_attempt(db, assessment, person, 1)
    rights = attempt_rights(db, assessment, person.id)
    if not rights.allowed:
        if latest.status == "draft":
            return latest
        raise ConflictError(rights.reason or "", code=rights.code or "conflict")
    draft = _create_attempt(db, assessment, person, latest.attempt + 1)
    if from_previous and not draft.text:
        draft.text = latest.text
        db.flush()
    return draft


def receipt(submission: Submission) -> Receipt:
    """What was handed in: date, and each file with its size and SHA-256."""
    if submission.submitted_at is None:
        raise ConflictError("Ce travail n'a pas encore été remis : pas de récépissé.")
    return Receipt(
        submission_id=submission.id,
        attempt=submission.attempt,
        submitted_at=_aware(submission.submitted_at),
        text_characters=len(submission.text),
        files=tuple(
            ReceiptFile(f.filename, f.size, f.sha256, f.content_type) for f in submission.files
        ),
    )
