"""Validation of a referential file: YAML text -> dict -> `Referential`.

`ReferentialSchema` checks every field and the cross-field rules of docs/referential-format.md
(unique codes, option groups covered by the combination, known block and role codes).
`parse_referential` adds the YAML boundary: `yaml.safe_load` only, a size limit, and a guard
against alias bombs, and turns marshmallow's nested error dict into field paths such as
``blocks[2].competencies[0].criteria[3].wording: Missing data for required field.``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import yaml
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from ltiservice.grading.referential import (
    CERTIFICATION_JURY,
    DEFAULT_CERTIFICATION_JURY,
    EVALUATION_COMMITTEE,
    JURY_OUTCOMES,
    JURY_ROUTES,
    Block,
    Case,
    Certification,
    CertificationJury,
    ChooseGroup,
    CombinationRule,
    Competency,
    Criterion,
    Epreuve,
    Equivalence,
    Exclusion,
    JuryRequirements,
    JurySeatRule,
    Referential,
    RuleProvenance,
)

#: A referential is a few hundred kilobytes at most; anything far larger is a mistake or hostile.
MAX_REFERENTIAL_BYTES = 2_000_000
#: Nodes after alias expansion: a "billion laughs" file is small but expands exponentially.
MAX_EXPANDED_NODES = 200_000
#: The only exclusion kind the seats carry today (see `Seat.trained_candidate`).
EXCLUSION_KINDS = ("trained_candidate",)

_CERTIFICATION_CODE = validate.Regexp(r"^[A-Z0-9_-]+$", error="Must match [A-Z0-9_-]+.")
_IDENTIFIER = validate.Regexp(r"^[A-Za-z0-9_.-]+$", error="Must match [A-Za-z0-9_.-]+.")
_NOT_EMPTY = validate.Length(min=1)
#: Rules the core applies in code (`Rules`), named so their provenance can be recorded.
CODE_RULES: Mapping[str, str] = MappingProxyType(
    {
        "thresholds.competency": "a competency is acquired iff every criterion is met",
        "thresholds.not_observed": "a criterion not observed counts as not met",
        "thresholds.block": "a block is acquired iff every competency is acquired",
        "grade.mapping": "how a block outcome becomes the LMS score",
    }
)


class ReferentialError(ValueError):
    """A referential file that cannot be used; `problems` are ``"field.path: message"`` lines."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


def _identifier(**kwargs: Any) -> fields.String:
    return fields.String(validate=_IDENTIFIER, **kwargs)


def _text(**kwargs: Any) -> fields.String:
    return fields.String(validate=_NOT_EMPTY, **kwargs)


class CriterionSchema(Schema):
    """One evaluation criterion."""

    id = _identifier(required=True)
    wording = _text(required=True)
    derived = fields.Boolean(load_default=False)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> Criterion:
        return Criterion(**data)


class CompetencySchema(Schema):
    """One competency and its criteria (at least one)."""

    code = _identifier(required=True)
    wording = _text(required=True)
    criteria = fields.List(fields.Nested(CriterionSchema), required=True, validate=_NOT_EMPTY)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> Competency:
        return Competency(
            code=data["code"], wording=data["wording"], criteria=tuple(data["criteria"])
        )


class ExclusionSchema(Schema):
    """Who may not sit in a role."""

    role = _identifier(required=True)
    may_not_have = fields.String(required=True, validate=validate.OneOf(EXCLUSION_KINDS))

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> Exclusion:
        return Exclusion(**data)


class EpreuveSchema(Schema):
    """One épreuve of a block: its actor, its modality and, when it has one, its committee."""

    code = _identifier(required=True)
    title = _text(required=True)
    actor = _text(required=True)
    modality = _text(required=True)
    required = fields.Boolean(load_default=True)
    # The épreuve's own committee; without roles the referential's jury applies.
    roles = fields.Dict(keys=_identifier(), values=_text(), load_default=None, validate=_NOT_EMPTY)
    min_evaluators = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1))
    required_roles = fields.List(_identifier(), load_default=list)
    exclusions = fields.List(fields.Nested(ExclusionSchema), load_default=list)

    @validates_schema
    def check_roles(self, data: dict[str, Any], **kwargs: Any) -> None:
        roles = data["roles"]
        named = [("required_roles", i, r) for i, r in enumerate(data["required_roles"])] + [
            ("exclusions", i, e.role) for i, e in enumerate(data["exclusions"])
        ]
        if roles is None and named:
            raise ValidationError("Declare the épreuve's roles before naming any.", "roles")
        errors: dict[str, Any] = {}
        for key, index, role in named:
            if role not in (roles or {}):
                path = (key, index, "role") if key == "exclusions" else (key, index)
                _add(errors, path, f"Unknown role {role!r}: not in the épreuve's roles.")
        if errors:
            raise ValidationError(errors)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> Epreuve:
        jury = None
        if data["roles"] is not None:
            jury = JuryRequirements(
                min_evaluators=data["min_evaluators"],
                roles=MappingProxyType(dict(data["roles"])),
                required_roles=tuple(data["required_roles"]),
                exclusions=tuple(data["exclusions"]),
            )
        return Epreuve(
            code=data["code"],
            title=data["title"],
            actor=data["actor"],
            modality=data["modality"],
            required=data["required"],
            jury=jury,
        )


def _epreuves_field() -> fields.List:
    # None (the key absent) and [] differ: absent inherits the referential's default.
    return fields.List(fields.Nested(EpreuveSchema), load_default=None, validate=_NOT_EMPTY)


def _check_epreuves(
    epreuves: list[Epreuve] | None, path: tuple[str | int, ...], errors: dict[str, Any]
) -> None:
    """Épreuve codes are unique in their list, and a block proposal waits for one at least."""
    if not epreuves:
        return
    seen: set[str] = set()
    for index, epreuve in enumerate(epreuves):
        if epreuve.code in seen:
            _add(errors, (*path, index, "code"), f"Duplicate épreuve code {epreuve.code!r}.")
        seen.add(epreuve.code)
    if not any(epreuve.required for epreuve in epreuves):
        _add(errors, (*path, 0, "required"), "At least one épreuve must be required.")


class BlockSchema(Schema):
    """One block of competencies (at least one competency)."""

    code = _identifier(required=True)
    rncp_block_code = fields.String(load_default=None, allow_none=True)
    other_codes = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    title = _text(required=True)
    option_group = fields.String(load_default=None, allow_none=True, validate=_NOT_EMPTY)
    evaluation_modalities = fields.List(_text(), load_default=list)
    competencies = fields.List(fields.Nested(CompetencySchema), required=True, validate=_NOT_EMPTY)
    epreuves = _epreuves_field()

    @validates_schema
    def check_epreuves(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        _check_epreuves(data.get("epreuves"), ("epreuves",), errors)
        if errors:
            raise ValidationError(errors)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> Block:
        return Block(
            code=data["code"],
            rncp_block_code=data["rncp_block_code"],
            other_codes=MappingProxyType(dict(data["other_codes"])),
            title=data["title"],
            option_group=data["option_group"],
            evaluation_modalities=tuple(data["evaluation_modalities"]),
            competencies=tuple(data["competencies"]),
            epreuves=tuple(data["epreuves"] or ()),
        )


class JurySchema(Schema):
    """Jury requirements; role codes used anywhere must be declared in ``roles``."""

    min_evaluators = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    roles = fields.Dict(keys=_identifier(), values=_text(), required=True, validate=_NOT_EMPTY)
    required_roles = fields.List(_identifier(), load_default=list)
    exclusions = fields.List(fields.Nested(ExclusionSchema), load_default=list)
    min_sessions = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1)
    )
    distinct_session_dates = fields.Boolean(load_default=False)
    decisions = fields.List(_text(), load_default=list)

    @validates_schema
    def check_roles(self, data: dict[str, Any], **kwargs: Any) -> None:
        roles = data["roles"]
        errors: dict[str, Any] = {}
        for index, role in enumerate(data["required_roles"]):
            if role not in roles:
                _add(errors, ("required_roles", index), f"Unknown role {role!r}: not in roles.")
        for index, exclusion in enumerate(data["exclusions"]):
            if exclusion.role not in roles:
                message = f"Unknown role {exclusion.role!r}: not in roles."
                _add(errors, ("exclusions", index, "role"), message)
        if errors:
            raise ValidationError(errors)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> JuryRequirements:
        return JuryRequirements(
            min_evaluators=data["min_evaluators"],
            roles=MappingProxyType(dict(data["roles"])),
            required_roles=tuple(data["required_roles"]),
            exclusions=tuple(data["exclusions"]),
            min_sessions=data["min_sessions"],
            distinct_session_dates=data["distinct_session_dates"],
            decisions=tuple(data["decisions"]),
        )


class ChooseGroupSchema(Schema):
    """``count`` blocks among ``from``."""

    from_blocks = fields.List(_identifier(), data_key="from", required=True, validate=_NOT_EMPTY)
    count = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))

    @validates_schema
    def check_count(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["count"] > len(data["from_blocks"]):
            raise ValidationError("Must not exceed the number of blocks in 'from'.", "count")

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> ChooseGroup:
        return ChooseGroup(from_blocks=tuple(data["from_blocks"]), count=data["count"])


class CombinationSchema(Schema):
    """How blocks make the certification."""

    required_blocks = fields.List(_identifier(), required=True)
    choose = fields.List(fields.Nested(ChooseGroupSchema), load_default=list)
    final_interview = fields.Boolean(load_default=False)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> CombinationRule:
        return CombinationRule(
            required_blocks=tuple(data["required_blocks"]),
            choose=tuple(data["choose"]),
            final_interview=data["final_interview"],
        )


class GradeSchema(Schema):
    """The LMS grade scale."""

    score_maximum = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> float:
        return float(data["score_maximum"])


class EquivalenceSourceSchema(Schema):
    """The official text an equivalence comes from: no source, no equivalence."""

    document = _text(required=True)
    quote = _text(required=True)


class EquivalenceSchema(Schema):
    """A block of an older version and what it counts as in this one, with its source."""

    from_version = _text(required=True)
    from_block = _identifier(required=True)
    to_blocks = fields.List(_identifier(), required=True, validate=_NOT_EMPTY)
    source = fields.Nested(EquivalenceSourceSchema, required=True)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> Equivalence:
        return Equivalence(
            from_version=data["from_version"],
            from_block=data["from_block"],
            to_blocks=tuple(data["to_blocks"]),
            document=data["source"]["document"],
            quote=data["source"]["quote"],
        )


class ProvenanceSchema(Schema):
    """Where one rule value comes from: a quoted document or a convention with its note."""

    rule = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z_]+(\.[a-z_]+)*$", error="Must be a dotted rule name."),
    )
    source = fields.String(required=True, validate=validate.OneOf(("document", "convention")))
    document = fields.String(load_default=None, allow_none=True, validate=_NOT_EMPTY)
    quote = fields.String(load_default=None, allow_none=True, validate=_NOT_EMPTY)
    note = fields.String(load_default="")

    @validates_schema
    def check_source(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        if data.get("source") == "document":
            for name in ("document", "quote"):
                if not data.get(name):
                    _add(errors, (name,), "Required when source is 'document'.")
        elif data.get("source") == "convention" and not (data.get("note") or "").strip():
            _add(errors, ("note",), "Required when source is 'convention'.")
        if errors:
            raise ValidationError(errors)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> RuleProvenance:
        return RuleProvenance(**data)


class CaseSchema(Schema):
    """A practical case for one block."""

    id = _identifier(required=True)
    block = _identifier(required=True)
    title = _text(required=True)
    statement = _text(required=True)
    deliverables = fields.List(_text(), load_default=list)
    duration_minutes = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1)
    )
    example = fields.Boolean(load_default=False)
    observes = fields.Dict(keys=_identifier(), values=_text(), load_default=dict)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> Case:
        return Case(
            **{
                **data,
                "deliverables": tuple(data["deliverables"]),
                "observes": MappingProxyType(dict(data["observes"])),
            }
        )


class JurySeatSchema(Schema):
    """One kind of seat on the certification jury."""

    code = _identifier(required=True)
    label = _text(required=True)
    min = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=0))
    max = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1)
    )

    @validates_schema
    def check_bounds(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["max"] is not None and data["max"] < data["min"]:
            raise ValidationError("Must not be lower than 'min'.", "max")

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> JurySeatRule:
        return JurySeatRule(**data)


class CertificationJurySchema(Schema):
    """The sovereign certification jury: which body acquires blocks, its outcomes, its seats."""

    body = _identifier(required=True)
    label = _text(required=True)
    acquires_blocks = fields.String(
        load_default=CERTIFICATION_JURY,
        validate=validate.OneOf([CERTIFICATION_JURY, EVALUATION_COMMITTEE]),
    )
    outcomes = fields.List(
        fields.String(validate=validate.OneOf(list(JURY_OUTCOMES))),
        load_default=lambda: list(JURY_OUTCOMES),
        validate=_NOT_EMPTY,
    )
    routes = fields.List(
        fields.String(validate=validate.OneOf(list(JURY_ROUTES))),
        load_default=lambda: ["evaluation"],
        validate=_NOT_EMPTY,
    )
    seats = fields.List(fields.Nested(JurySeatSchema), load_default=list)
    equal_seats = fields.List(_identifier(), load_default=list)
    president_required = fields.Boolean(load_default=True)
    substitutes_only_for_absent = fields.Boolean(load_default=True)
    observers = fields.Dict(keys=_identifier(), values=_text(), load_default=dict)

    @validates_schema
    def check_seats(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        codes = Counter(seat.code for seat in data["seats"])
        for index, seat in enumerate(data["seats"]):
            if codes[seat.code] > 1:
                _add(errors, ("seats", index, "code"), f"Duplicate seat {seat.code!r}.")
        for index, code in enumerate(data["equal_seats"]):
            if code not in codes:
                _add(errors, ("equal_seats", index), f"Unknown seat {code!r}: not in seats.")
        if errors:
            raise ValidationError(errors)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> CertificationJury:
        return CertificationJury(
            body=data["body"],
            label=data["label"],
            acquires_blocks=data["acquires_blocks"],
            outcomes=tuple(dict.fromkeys(data["outcomes"])),
            routes=tuple(dict.fromkeys(data["routes"])),
            seats=tuple(data["seats"]),
            equal_seats=tuple(data["equal_seats"]),
            president_required=data["president_required"],
            substitutes_only_for_absent=data["substitutes_only_for_absent"],
            observers=MappingProxyType(dict(data["observers"])),
        )


class CertificationSchema(Schema):
    """The certification header of a referential."""

    code = fields.String(required=True, validate=_CERTIFICATION_CODE)
    rncp_code = fields.String(required=True, allow_none=True, validate=_NOT_EMPTY)
    title = _text(required=True)
    certifiers = fields.List(_text(), required=True, validate=_NOT_EMPTY)
    level = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1, max=8)
    )
    registration_end_date = fields.Date(load_default=None, allow_none=True)
    last_delivery_date = fields.Date(load_default=None, allow_none=True)
    version = _text(required=True)
    supersedes = fields.String(load_default=None, allow_none=True, validate=_NOT_EMPTY)
    source = fields.String(load_default=None, allow_none=True)

    @validates_schema
    def check_supersedes(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["supersedes"] is not None and data["supersedes"] == data["version"]:
            raise ValidationError("A version cannot supersede itself.", "supersedes")

    @validates_schema
    def check_last_delivery(self, data: dict[str, Any], **kwargs: Any) -> None:
        end, last = data["registration_end_date"], data["last_delivery_date"]
        if last is not None and (end is None or last < end):
            raise ValidationError(
                "The last delivery date needs a registration end date and cannot precede it.",
                "last_delivery_date",
            )

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> Certification:
        return Certification(**{**data, "certifiers": tuple(data["certifiers"])})


class ReferentialSchema(Schema):
    """A whole referential file, with the cross-field checks that span sections."""

    certification = fields.Nested(CertificationSchema, required=True)
    blocks = fields.List(fields.Nested(BlockSchema), required=True, validate=_NOT_EMPTY)
    jury = fields.Nested(JurySchema, required=True)
    combination = fields.Nested(CombinationSchema, required=True)
    grade = fields.Nested(GradeSchema, required=True)
    equivalences = fields.List(fields.Nested(EquivalenceSchema), load_default=list)
    cases = fields.List(fields.Nested(CaseSchema), load_default=list)
    certification_jury = fields.Nested(
        CertificationJurySchema, load_default=lambda: DEFAULT_CERTIFICATION_JURY
    )
    provenance = fields.List(fields.Nested(ProvenanceSchema), load_default=list)
    # The default épreuves of every block that declares none (courtage: the same three).
    epreuves = _epreuves_field()

    @validates_schema
    def check_cross_fields(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        _check_epreuves(data.get("epreuves"), ("epreuves",), errors)
        blocks: list[Block] = data["blocks"]
        _check_unique_codes(blocks, data["cases"], errors)
        _check_case_observations(blocks, data["cases"], errors)
        _check_provenance(data["provenance"], self.rule_names(), errors)
        _check_option_groups(blocks, data["combination"], errors)
        known = {block.code for block in blocks}
        _check_combination_blocks(data["combination"], known, errors)
        version = data["certification"].version
        for index, equivalence in enumerate(data["equivalences"]):
            if equivalence.from_version == version:
                message = "Must name an older version, not this one."
                _add(errors, ("equivalences", index, "from_version"), message)
            for position, code in enumerate(equivalence.to_blocks):
                if code not in known:
                    path = ("equivalences", index, "to_blocks", position)
                    _add(errors, path, f"Unknown block {code!r}.")
        for index, case in enumerate(data["cases"]):
            if case.block not in known:
                _add(errors, ("cases", index, "block"), f"Unknown block {case.block!r}.")
        if errors:
            raise ValidationError(errors)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> Referential:
        return Referential(
            certification=data["certification"],
            blocks=tuple(_with_default_epreuves(b, data["epreuves"]) for b in data["blocks"]),
            jury=data["jury"],
            combination=data["combination"],
            grade_maximum=data["grade"],
            equivalences=tuple(data["equivalences"]),
            cases=tuple(data["cases"]),
            certification_jury=data["certification_jury"],
            provenance=tuple(data["provenance"]),
        )

    def rule_names(self) -> frozenset[str]:
        """Every rule a provenance entry may name: sections, their fields, the code rules."""
        names = set(CODE_RULES)
        sections = ("certification", "jury", "combination", "grade", "equivalences")
        for section in (*sections, "certification_jury"):
            names.add(section)
            field = self.fields[section]
            if isinstance(field, fields.Nested) and isinstance(field.schema, Schema):
                names.update(
                    f"{section}.{sub.data_key or key}" for key, sub in field.schema.fields.items()
                )
        return frozenset(names)


def _check_provenance(
    entries: list[RuleProvenance], known: frozenset[str], errors: dict[str, Any]
) -> None:
    """Each entry names a rule that exists, once."""
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if entry.rule not in known:
            message = f"Unknown rule {entry.rule!r}: not a rule of this referential."
            _add(errors, ("provenance", index, "rule"), message)
        if entry.rule in seen:
            _add(errors, ("provenance", index, "rule"), f"Duplicate rule {entry.rule!r}.")
        seen.add(entry.rule)


def _check_case_observations(
    blocks: list[Block], cases: list[Case], errors: dict[str, Any]
) -> None:
    """``observes`` names criteria of the case's own block."""
    criteria = {block.code: {c.id for c in block.criteria()} for block in blocks}
    for index, case in enumerate(cases):
        own = criteria.get(case.block)
        if own is None:
            continue
        for criterion in case.observes:
            if criterion not in own:
                message = f"Unknown criterion {criterion!r}: not in block {case.block!r}."
                _add(errors, ("cases", index, "observes", criterion), message)


def _with_default_epreuves(block: Block, default: list[Epreuve] | None) -> Block:
    """The block with the referential's default épreuves when it declares none itself."""
    if block.epreuves or not default:
        return block
    return dataclasses.replace(block, epreuves=tuple(default))


def _add(errors: dict[Any, Any], path: tuple[str | int, ...], message: str) -> None:
    """Store ``message`` at ``path`` in a marshmallow-shaped nested error dict."""
    node = errors
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node.setdefault(path[-1], []).append(message)


def _check_unique_codes(blocks: list[Block], cases: list[Case], errors: dict[str, Any]) -> None:
    """Block and competency codes, criterion and case ids are unique in the referential."""
    seen_blocks: set[str] = set()
    seen_competencies: set[str] = set()
    seen_criteria: set[str] = set()
    for b, block in enumerate(blocks):
        if block.code in seen_blocks:
            _add(errors, ("blocks", b, "code"), f"Duplicate block code {block.code!r}.")
        seen_blocks.add(block.code)
        for c, competency in enumerate(block.competencies):
            path = ("blocks", b, "competencies", c)
            if competency.code in seen_competencies:
                message = f"Duplicate competency code {competency.code!r}."
                _add(errors, (*path, "code"), message)
            seen_competencies.add(competency.code)
            for k, criterion in enumerate(competency.criteria):
                if criterion.id in seen_criteria:
                    message = (
                        f"Duplicate criterion id {criterion.id!r}: a criterion belongs to "
                        "exactly one competency."
                    )
                    _add(errors, (*path, "criteria", k, "id"), message)
                seen_criteria.add(criterion.id)
    seen_cases: set[str] = set()
    for index, case in enumerate(cases):
        if case.id in seen_cases:
            _add(errors, ("cases", index, "id"), f"Duplicate case id {case.id!r}.")
        seen_cases.add(case.id)


def _check_option_groups(
    blocks: list[Block], combination: CombinationRule, errors: dict[str, Any]
) -> None:
    """An option group holds ≥ 2 alternative blocks and one ``choose`` group covers it."""
    members: dict[str, list[int]] = {}
    for index, block in enumerate(blocks):
        if block.option_group is not None:
            members.setdefault(block.option_group, []).append(index)
    for group, indexes in members.items():
        first = ("blocks", indexes[0], "option_group")
        if len(indexes) < 2:
            _add(errors, first, f"Option group {group!r} has a single block: needs at least 2.")
            continue
        codes = {blocks[i].code for i in indexes}
        if not any(codes <= set(choose.from_blocks) for choose in combination.choose):
            message = (
                f"Option group {group!r} ({', '.join(sorted(codes))}) is covered by no "
                "combination.choose group."
            )
            _add(errors, first, message)
        required = codes & set(combination.required_blocks)
        if required:
            message = f"Alternative blocks cannot be required: {', '.join(sorted(required))}."
            _add(errors, first, message)


def _check_combination_blocks(
    combination: CombinationRule, known: set[str], errors: dict[str, Any]
) -> None:
    """The combination names existing blocks, each at most once."""
    for index, code in enumerate(combination.required_blocks):
        if code not in known:
            _add(errors, ("combination", "required_blocks", index), f"Unknown block {code!r}.")
    counts = Counter(combination.required_blocks)
    for group_index, choose in enumerate(combination.choose):
        counts.update(choose.from_blocks)
        for index, code in enumerate(choose.from_blocks):
            if code not in known:
                path = ("combination", "choose", group_index, "from", index)
                _add(errors, path, f"Unknown block {code!r}.")
    for code, count in counts.items():
        if count > 1:
            message = f"Block {code!r} appears {count} times in the combination."
            _add(errors, ("combination", "_schema"), message)


def error_paths(messages: Any, prefix: str = "") -> list[str]:
    """Flatten marshmallow's nested error messages into ``"a.b[2].c: message"`` lines."""
    if isinstance(messages, Mapping):
        lines: list[str] = []
        for key, value in messages.items():
            lines.extend(error_paths(value, _join(prefix, key)))
        return lines
    if isinstance(messages, list | tuple):
        lines = []
        for item in messages:
            lines.extend(error_paths(item, prefix))
        return lines
    return [f"{prefix or '(document)'}: {messages}"]


def _join(prefix: str, key: Any) -> str:
    if key == "_schema":
        return prefix
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else str(key)


def _expanded_size(node: Any, memo: dict[int, int]) -> int:
    """Node count with aliases expanded, computed once per shared object (linear time)."""
    key = id(node)
    if key in memo:
        return memo[key]
    if isinstance(node, Mapping):
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.items())
    elif isinstance(node, list):
        size = 1 + sum(_expanded_size(item, memo) for item in node)
    else:
        size = 1
    memo[key] = size
    return size


def load_yaml(text: str) -> Any:
    """Parse referential YAML safely, or raise `ReferentialError` with the line and column."""
    if len(text.encode("utf-8")) > MAX_REFERENTIAL_BYTES:
        raise ReferentialError([f"(document): File larger than {MAX_REFERENTIAL_BYTES} bytes."])
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ReferentialError([f"(document): Invalid YAML: {_yaml_problem(exc)}"]) from exc
    except RecursionError as exc:
        raise ReferentialError(["(document): Invalid YAML: nesting too deep."]) from exc
    # Marshmallow would walk every alias expansion, so refuse exponential documents up front.
    if _expanded_size(data, {}) > MAX_EXPANDED_NODES:
        raise ReferentialError(["(document): Too many nodes once YAML aliases are expanded."])
    return data


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is None:
        return str(problem)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"


def build_referential(data: Any) -> Referential:
    """Validate an already parsed document; `ReferentialError` lists every problem by path."""
    if not isinstance(data, Mapping):
        raise ReferentialError(["(document): Must be a mapping (certification, blocks, …)."])
    try:
        referential: Referential = ReferentialSchema().load(data)
    except ValidationError as exc:
        raise ReferentialError(error_paths(exc.messages)) from exc
    return referential


def parse_referential(text: str) -> Referential:
    """YAML text of a referential file -> validated `Referential`."""
    return build_referential(load_yaml(text))
