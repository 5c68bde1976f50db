"""Placing an assessment: the trainer's choices validated, stored, and sent back to the LMS."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema
from sqlalchemy.orm import Session

from ltiservice.errors import ServiceError
from ltiservice.grades import DEFAULT_GRADE_MAPPING, GRADE_MAPPINGS
from ltiservice.grading.interface import Block, CertificationPlugin, Epreuve
from ltiservice.grading.registration import registration_status
from ltiservice.lti.context import LaunchContext
from ltiservice.models import Assessment

PARIS = ZoneInfo("Europe/Paris")

# What a learner may hand in: extension -> label shown to the trainer.
FILE_TYPES = {
    ".pdf": "PDF",
    ".docx": "Word (.docx)",
    ".odt": "OpenDocument texte (.odt)",
    ".xlsx": "Excel (.xlsx)",
    ".ods": "OpenDocument tableur (.ods)",
    ".pptx": "PowerPoint (.pptx)",
    ".jpg": "Image JPEG",
    ".png": "Image PNG",
    ".txt": "Texte (.txt)",
}


@dataclass(frozen=True)
class PlacementChoice:
    """A validated placement form."""

    certification_code: str
    block_code: str
    epreuve_code: str | None
    case_id: str | None
    custom_title: str | None
    custom_statement: str | None
    title: str
    deadline: datetime | None
    allowed_extensions: tuple[str, ...]
    max_file_mb: int
    max_attempts: int
    score_maximum: float
    grade_mapping: str = DEFAULT_GRADE_MAPPING
    # Placed under an expired registration, confirmed for candidates who started before it.
    expired_registration_confirmed: bool = False


def paris_today() -> date:
    """Registration dates are French calendar days."""
    return datetime.now(PARIS).date()


MAX_FILE_MB = 200  # when no service limit is given (the service passes `max_upload_mb`)


class PlacementSchema(Schema):
    """The picker form: certification ▸ block ▸ case ▸ submission rules."""

    # "<CERTIFICATION>:<block code>", then ":<épreuve code>" when the block has several.
    block = fields.String(required=True)
    case = fields.String(load_default="")  # a plugin case id, or "custom"
    custom_title = fields.String(load_default="")
    custom_statement = fields.String(load_default="")
    title = fields.String(load_default="", validate=validate.Length(max=200))
    deadline = fields.String(load_default="")
    allowed_extensions = fields.List(
        fields.String(validate=validate.OneOf(list(FILE_TYPES))), load_default=list
    )
    max_file_mb = fields.Integer(load_default=10, validate=validate.Range(min=1))
    max_attempts = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10))
    score_maximum = fields.Float(load_default=100.0, validate=validate.Range(min=1, max=1000))
    grade_mapping = fields.String(
        load_default=DEFAULT_GRADE_MAPPING,
        validate=validate.OneOf(
            list(GRADE_MAPPINGS),
            error="Choisissez comment le résultat du bloc devient une note : "
            + " ou ".join(f"« {label} »" for label in GRADE_MAPPINGS.values())
            + ".",
        ),
    )
    # A checkbox: present ("on") when ticked.
    started_before_end = fields.String(load_default="")

    def __init__(
        self,
        plugins: dict[str, CertificationPlugin],
        max_file_mb: int = MAX_FILE_MB,
        today: date | None = None,
        may_confirm: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._plugins = plugins
        self._max_file_mb = max_file_mb
        self._today = today or paris_today()
        self._may_confirm = may_confirm

    @validates_schema
    def _check(self, data: dict[str, Any], **_: Any) -> None:
        code, block, epreuve = split_choice(data["block"])
        plugin = self._plugins.get(code)
        if plugin is None or block not in {b.code for b in plugin.current.blocks}:
            raise ValidationError("Choisissez un bloc de compétences.", "block")
        _check_epreuve(plugin.current.block(block), epreuve)
        case = data["case"]
        if case == "custom":
            if not data["custom_title"].strip() or not data["custom_statement"].strip():
                raise ValidationError("Donnez un titre et un énoncé au cas rédigé.", "case")
        elif case and case not in {c.id for c in plugin.current.cases if c.block == block}:
            raise ValidationError("Ce cas n'appartient pas au bloc choisi.", "case")
        if data["deadline"]:
            try:
                datetime.fromisoformat(data["deadline"])
            except ValueError as exc:
                raise ValidationError("Date limite illisible.", "deadline") from exc
        if not data["allowed_extensions"]:
            raise ValidationError("Autorisez au moins un type de fichier.", "allowed_extensions")
        if data["max_file_mb"] > self._max_file_mb:
            raise ValidationError(
                f"La taille maximale par fichier ne peut pas dépasser {self._max_file_mb} Mo : "
                "c'est la limite des envois sur ce service.",
                "max_file_mb",
            )
        self._check_registration(plugin, data)

    def _check_registration(self, plugin: CertificationPlugin, data: dict[str, Any]) -> None:
        """An expired registration takes only candidates who started before its end date: the
        administrator must say so, or nothing is placed."""
        status = registration_status(plugin.current, self._today)
        if not status.expired:
            return
        if not data["started_before_end"]:
            raise ValidationError(
                f"{status.message} Pour placer cette évaluation, cochez la case confirmant "
                "qu'elle concerne des candidats entrés en parcours avant cette date.",
                "started_before_end",
            )
        if not self._may_confirm:
            raise ValidationError(
                f"{status.message} Seul un administrateur de la plateforme peut confirmer que "
                "cette évaluation concerne des candidats entrés en parcours avant cette date : "
                "demandez-lui de la placer.",
                "started_before_end",
            )

    @post_load
    def _build(self, data: dict[str, Any], **_: Any) -> PlacementChoice:
        code, block_code, epreuve_code = split_choice(data["block"])
        plugin = self._plugins[code]
        block = plugin.current.block(block_code)
        epreuve = block.epreuve(epreuve_code) if epreuve_code else None
        case_id = data["case"] if data["case"] not in {"", "custom"} else None
        if data["case"] == "" and plugin.current.cases_for(block_code):
            case_id = plugin.current.cases_for(block_code)[0].id
        deadline = None
        if data["deadline"]:
            parsed = datetime.fromisoformat(data["deadline"])
            deadline = parsed if parsed.tzinfo else parsed.replace(tzinfo=PARIS)
        custom = data["case"] == "custom"
        return PlacementChoice(
            certification_code=code,
            block_code=block_code,
            epreuve_code=epreuve_code,
            case_id=case_id,
            custom_title=data["custom_title"].strip() if custom else None,
            custom_statement=data["custom_statement"].strip() if custom else None,
            title=data["title"].strip() or _default_title(block, epreuve),
            deadline=deadline,
            allowed_extensions=tuple(data["allowed_extensions"]),
            max_file_mb=data["max_file_mb"],
            max_attempts=data["max_attempts"],
            score_maximum=data["score_maximum"],
            grade_mapping=data["grade_mapping"],
            expired_registration_confirmed=registration_status(plugin.current, self._today).expired
            and bool(data["started_before_end"]),
        )


def split_choice(value: str) -> tuple[str, str, str | None]:
    """``"COURTAGE:BC1:OF"`` -> (certification, block, épreuve or None)."""
    code, _, rest = value.partition(":")
    block, _, epreuve = rest.partition(":")
    return code, block, epreuve or None


def _check_epreuve(block: Block, epreuve: str | None) -> None:
    """The épreuve chosen is one of the block's; a block with several needs one chosen."""
    codes = [e.code for e in block.epreuves]
    if epreuve is None and codes:
        raise ValidationError(
            f"Le bloc {block.code} s'évalue par plusieurs épreuves : choisissez l'épreuve que "
            f"cette activité évalue ({', '.join(codes)}).",
            "block",
        )
    if epreuve is not None and epreuve not in codes:
        where = (
            f"les épreuves de ce bloc sont {', '.join(codes)}"
            if codes
            else "ce bloc s'évalue par une seule épreuve, sans code"
        )
        raise ValidationError(
            f"L'épreuve « {epreuve} » n'existe pas pour le bloc {block.code} : {where}.",
            "block",
        )


def _default_title(block: Block, epreuve: Epreuve | None) -> str:
    if epreuve is None:
        return f"{block.code} — {block.title}"[:200]
    return f"{block.code} — {epreuve.title} — {block.title}"[:200]


def parse_placement(
    form: dict[str, Any],
    plugins: dict[str, CertificationPlugin],
    max_file_mb: int = MAX_FILE_MB,
    today: date | None = None,
    *,
    may_confirm: bool = False,
) -> PlacementChoice:
    """The trainer's form as a PlacementChoice, or a 400 listing what to fix (in French).

    ``max_file_mb`` is the service's upload limit (`max_upload_mb`): no file limit above it.
    ``today`` (Paris day, default now) is the day registration end dates are compared with;
    ``may_confirm``: the launch is an administrator's, who alone may confirm a placement under
    an expired registration.
    """
    try:
        schema = PlacementSchema(plugins, max_file_mb, today, may_confirm)
        return schema.load(form)  # type: ignore[no-any-return]
    except ValidationError as exc:
        messages = exc.normalized_messages()
        flat = [
            m
            for value in messages.values()
            for m in (value if isinstance(value, list) else [value])
        ]
        raise ServiceError(
            " ".join(str(m) for m in flat), code="invalid_placement", details={"fields": messages}
        ) from exc


def create_assessment(
    db: Session,
    context: LaunchContext,
    choice: PlacementChoice,
    plugins: dict[str, CertificationPlugin],
    *,
    resource_link_id: str | None = None,
    lineitem_url: str | None = None,
    lineitems_url: str | None = None,
) -> Assessment:
    """Store the placement (in the caller's transaction)."""
    if context.course_id is None:
        raise ServiceError("Une évaluation se place dans un cours.", code="no_course")
    plugin = plugins[choice.certification_code]
    assessment = Assessment(
        organisation_id=context.organisation_id,
        platform_id=context.platform_id,
        deployment_id=context.deployment_id,
        course_id=context.course_id,
        resource_id=secrets.token_hex(16),
        resource_link_id=resource_link_id,
        title=choice.title,
        certification_code=choice.certification_code,
        referential_version=plugin.current.certification.version,
        block_code=choice.block_code,
        epreuve_code=choice.epreuve_code,
        case_id=choice.case_id,
        custom_case=(
            {"title": choice.custom_title, "statement": choice.custom_statement}
            if choice.custom_title
            else None
        ),
        deadline=choice.deadline,
        allowed_extensions=list(choice.allowed_extensions),
        max_file_mb=choice.max_file_mb,
        max_attempts=choice.max_attempts,
        score_maximum=choice.score_maximum,
        grade_mapping=choice.grade_mapping,
        expired_registration_confirmed_by_id=(
            context.person_id if choice.expired_registration_confirmed else None
        ),
        expired_registration_confirmed_at=(
            datetime.now(UTC) if choice.expired_registration_confirmed else None
        ),
        lineitem_url=lineitem_url,
        lineitems_url=lineitems_url,
        created_by_id=context.person_id,
    )
    db.add(assessment)
    db.flush()
    return assessment
