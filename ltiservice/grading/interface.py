"""The certification plugin interface: the ONLY module a plugin imports.

A plugin is referential data (one YAML file per referential version, see
docs/referential-format.md) plus rules (a `Rules` subclass overriding only what differs from
the defaults below). It exposes one `CertificationPlugin` through the entry-point group
``ltiservice.plugins``::

    from ltiservice.grading.interface import CertificationPlugin, Rules

    class CrcaRules(Rules):
        ...

    plugin = CertificationPlugin("ltiservice_cqp_crca", ["crca-2024.yaml"], CrcaRules())

Results are plain frozen dataclasses; messages a trainer or a learner reads are French.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Literal, get_args

from ltiservice.grading.referential import (
    CERTIFICATION_JURY,
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
from ltiservice.grading.schema import ReferentialError, parse_referential

__all__ = [
    "CERTIFICATION_JURY",
    "EVALUATION_COMMITTEE",
    "JURY_OUTCOMES",
    "JURY_ROUTES",
    "VERDICTS",
    "Block",
    "BlockOutcome",
    "Case",
    "Certification",
    "CertificationJury",
    "CertificationPlugin",
    "CertificationStatus",
    "ChooseGroup",
    "CombinationRule",
    "Competency",
    "CompetencyResult",
    "Criterion",
    "Epreuve",
    "Equivalence",
    "Exclusion",
    "JuryMember",
    "JuryProblem",
    "JuryRequirements",
    "JurySeatRule",
    "PluginError",
    "Referential",
    "RuleProvenance",
    "Rules",
    "Seat",
    "UnknownVerdictError",
    "Verdict",
]

Verdict = Literal["met", "not_met", "not_observed"]
#: Every verdict an evaluator may give a criterion.
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)

#: Fact name `Rules.certification_status` reads when the combination requires a final interview.
FINAL_INTERVIEW_FACT = "final_interview_passed"

_NO_FACTS: Mapping[str, bool] = MappingProxyType({})


class PluginError(Exception):
    """A plugin that cannot be used; names the plugin, the file and the field paths at fault."""

    def __init__(self, plugin: str, file: str | None, problems: Iterable[str]) -> None:
        self.plugin = plugin
        self.file = file
        self.problems = tuple(problems)
        where = f"plugin {plugin!r}" + (f", file {file}" if file else "")
        super().__init__(f"{where}: " + "; ".join(self.problems))


class UnknownVerdictError(ValueError):
    """A verdict that is not one of `VERDICTS` (a typo must not silently count as not met)."""


@dataclass(frozen=True)
class CompetencyResult:
    """A competency's result from its criteria verdicts: ``met`` of ``total`` criteria met."""

    code: str
    acquired: bool
    met: int
    total: int


@dataclass(frozen=True)
class BlockOutcome:
    """A block's result from its competencies' results."""

    block_code: str
    acquired: bool
    competencies: tuple[CompetencyResult, ...]

    @property
    def acquired_count(self) -> int:
        """How many competencies of the block are acquired."""
        return sum(1 for result in self.competencies if result.acquired)

    @property
    def competency_count(self) -> int:
        """How many competencies the block has."""
        return len(self.competencies)


@dataclass(frozen=True)
class Seat:
    """One evaluator sitting on a jury: the role held and the facts exclusions look at."""

    evaluator_id: str
    role: str
    trained_candidate: bool = False
    session_dates: tuple[datetime.date, ...] = ()


@dataclass(frozen=True)
class JuryMember:
    """One person recorded on a certification jury session.

    ``titular`` is False for a substitute, who names in ``substitute_for`` the titular they
    replace; ``present`` says whether the person attended; observers are not members.
    """

    name: str
    seat: str
    titular: bool = True
    present: bool = True
    president: bool = False
    substitute_for: str | None = None


@dataclass(frozen=True)
class JuryProblem:
    """Why a jury cannot decide: a stable ``code`` and a French ``message``."""

    code: str
    message: str


@dataclass(frozen=True)
class CertificationStatus:
    """Whether the certification is granted, and in French what is still needed if not."""

    granted: bool
    acquired_blocks: frozenset[str]
    missing: tuple[str, ...]


class Rules:
    """Default grading rules. A plugin subclasses this and overrides only what differs."""

    def competency_result(
        self, competency: Competency, verdicts: Mapping[str, Verdict]
    ) -> CompetencyResult:
        """Acquired iff every criterion is ``met``; a missing verdict counts as not met."""
        met = 0
        for criterion in competency.criteria:
            verdict = verdicts.get(criterion.id)
            if verdict is not None and verdict not in VERDICTS:
                raise UnknownVerdictError(f"verdict {verdict!r} for criterion {criterion.id!r}")
            met += verdict == "met"
        total = len(competency.criteria)
        return CompetencyResult(competency.code, total > 0 and met == total, met, total)

    def block_outcome(self, block: Block, verdicts: Mapping[str, Verdict]) -> BlockOutcome:
        """Acquired iff every competency of the block is acquired (100 % of them)."""
        results = tuple(self.competency_result(c, verdicts) for c in block.competencies)
        acquired = bool(results) and all(result.acquired for result in results)
        return BlockOutcome(block.code, acquired, results)

    def jury_problems(
        self, referential: Referential, block: Block, seats: Sequence[Seat]
    ) -> list[JuryProblem]:
        """What keeps these seats from forming the jury ``referential.jury`` asks for.

        Checks, in order: unknown roles, the number of distinct evaluators, every required
        role held, exclusions (e.g. an evaluator from another service who trained the
        candidate), and the number of observation sessions. An empty list means the jury may
        decide. ``block`` is unused by default; a plugin whose jury differs per block reads it.
        """
        jury = referential.jury
        problems = [
            JuryProblem("unknown_role", f"Le rôle « {seat.role} » n'existe pas pour ce jury.")
            for seat in seats
            if seat.role not in jury.roles
        ]
        evaluators = {seat.evaluator_id for seat in seats}
        if len(evaluators) < jury.min_evaluators:
            problems.append(
                JuryProblem(
                    "min_evaluators",
                    f"Le jury doit compter au moins {jury.min_evaluators} évaluateurs distincts "
                    f"({len(evaluators)} à ce jour).",
                )
            )
        held = {seat.role for seat in seats}
        for role in jury.required_roles:
            if role not in held:
                problems.append(
                    JuryProblem(
                        "missing_role",
                        f"Le rôle « {jury.role_label(role)} » doit être tenu par un évaluateur.",
                    )
                )
        problems.extend(self._exclusion_problems(jury, seats))
        problems.extend(self._session_problems(jury, seats))
        return problems

    def committee_problems(
        self,
        referential: Referential,
        block: Block,
        epreuve: Epreuve | None,
        seats: Sequence[Seat],
    ) -> list[JuryProblem]:
        """`jury_problems` against the committee of the épreuve the seats grade.

        An épreuve with its own roles (courtage: one actor each) is checked against them: the
        referential handed to `jury_problems` carries the épreuve's requirements as its
        ``jury``, so a plugin's override reads the right committee without a new signature.
        Without an épreuve (or one with no roles of its own) this is `jury_problems` as is.
        """
        if epreuve is None or epreuve.jury is None:
            return self.jury_problems(referential, block, seats)
        scoped = dataclasses.replace(referential, jury=epreuve.jury)
        return self.jury_problems(scoped, block, seats)

    def epreuves_acquired(self, block: Block, results: Mapping[str, bool]) -> bool:
        """Whether the committee proposes a block acquired from its épreuves' results.

        ``results`` maps the code of each épreuve with a standing decision to whether that
        decision found the block's competencies acquired; it holds every required épreuve
        (the proposal is only made once they all have a result).

        Product convention, to be confirmed by the certifier: the block is proposed acquired
        iff every required épreuve's result is acquired. The courtage fiche (RNCP31395) lists
        the three modalities of each block but says nothing of how they combine; optional
        épreuves inform the jury and do not count.
        """
        return all(results.get(epreuve.code, False) for epreuve in block.required_epreuves)

    def _exclusion_problems(
        self, jury: JuryRequirements, seats: Sequence[Seat]
    ) -> list[JuryProblem]:
        problems = []
        for exclusion in jury.exclusions:
            for seat in seats:
                if seat.role == exclusion.role and _has(seat, exclusion.may_not_have):
                    problems.append(
                        JuryProblem(
                            "exclusion",
                            f"L'évaluateur {seat.evaluator_id} ne peut pas siéger comme "
                            f"« {jury.role_label(seat.role)} » : "
                            f"{_reason(exclusion.may_not_have)}.",
                        )
                    )
        return problems

    def _session_problems(self, jury: JuryRequirements, seats: Sequence[Seat]) -> list[JuryProblem]:
        if jury.min_sessions is None:
            return []
        if jury.distinct_session_dates:
            sessions = len({day for seat in seats for day in seat.session_dates})
            what = "séances d'observation à des dates différentes"
        else:
            # Without session ids, the evaluator who observed most tells how many sessions ran.
            sessions = max((len(seat.session_dates) for seat in seats), default=0)
            what = "séances d'observation"
        if sessions >= jury.min_sessions:
            return []
        return [
            JuryProblem(
                "min_sessions",
                f"Il faut au moins {jury.min_sessions} {what} ({sessions} à ce jour).",
            )
        ]

    def certification_jury_problems(
        self, referential: Referential, members: Sequence[JuryMember]
    ) -> list[JuryProblem]:
        """What keeps these members from forming the certification jury the referential asks for.

        Checks unknown seats, substitutes (a substitute sits only in the absence of the
        titular they replace), the number of sitting members per seat, parity between the
        ``equal_seats``, and the president, designated among the sitting members. An empty
        list means the jury is validly composed and its minutes may be signed.
        """
        jury = referential.certification_jury
        problems = [
            JuryProblem("unknown_seat", f"Le siège « {member.seat} » n'existe pas pour ce jury.")
            for member in members
            if jury.seat(member.seat) is None
        ]
        problems.extend(_substitute_problems(jury, members))
        sitting = sitting_members(jury, members)
        if not sitting:
            problems.append(JuryProblem("nobody_sits", "Aucun membre présent ne siège."))
        counts = {seat.code: sum(1 for m in sitting if m.seat == seat.code) for seat in jury.seats}
        for seat in jury.seats:
            count = counts[seat.code]
            if count < seat.min:
                problems.append(
                    JuryProblem(
                        "missing_seat",
                        f"Siège « {seat.label} » : {seat.min} membre(s) siégeant requis, "
                        f"{count} à ce jour.",
                    )
                )
            elif seat.max is not None and count > seat.max:
                problems.append(
                    JuryProblem(
                        "too_many_seat",
                        f"Siège « {seat.label} » : {seat.max} membre(s) siégeant au plus, "
                        f"{count} à ce jour.",
                    )
                )
        parity = {counts.get(code, 0) for code in jury.equal_seats}
        if len(parity) > 1:
            labels = " et ".join(f"« {jury.seat_label(code)} »" for code in jury.equal_seats)
            problems.append(
                JuryProblem(
                    "parity",
                    f"Les sièges {labels} doivent compter autant de membres siégeant "
                    f"({', '.join(str(counts.get(c, 0)) for c in jury.equal_seats)} à ce jour).",
                )
            )
        problems.extend(_president_problems(jury, members, sitting))
        return problems

    def certification_status(
        self,
        referential: Referential,
        acquired_blocks: Set[str],
        facts: Mapping[str, bool] = _NO_FACTS,
    ) -> CertificationStatus:
        """Apply the combination rule to the blocks acquired for good (capitalisation).

        Granted iff every required block is acquired, at least ``count`` blocks of each
        ``choose`` group are, and ``facts["final_interview_passed"]`` is true when the rule asks
        for a final interview. Codes that are not blocks of the referential are ignored.
        """
        known = {block.code for block in referential.blocks}
        acquired = frozenset(code for code in acquired_blocks if code in known)
        rule = referential.combination
        missing = [
            f"Bloc {code} à acquérir : {referential.block(code).title}"
            for code in rule.required_blocks
            if code not in acquired
        ]
        for group in rule.choose:
            still = group.count - len(acquired & set(group.from_blocks))
            if still > 0:
                plural = "bloc" if still == 1 else "blocs"
                missing.append(
                    f"{still} {plural} à acquérir parmi {_french_list(group.from_blocks)}."
                )
        if rule.final_interview and not facts.get(FINAL_INTERVIEW_FACT, False):
            missing.append("Entretien final avec le jury à réussir.")
        return CertificationStatus(not missing, acquired, tuple(missing))

    def lms_grade(self, referential: Referential, outcome: BlockOutcome) -> tuple[float, float]:
        """(score given, maximum) for the LMS: the share of the block's competencies acquired."""
        maximum = referential.grade_maximum
        if outcome.competency_count == 0:
            return (0.0, maximum)
        return (maximum * outcome.acquired_count / outcome.competency_count, maximum)


def sitting_members(jury: CertificationJury, members: Sequence[JuryMember]) -> list[JuryMember]:
    """The members who sit: present titulars, and present substitutes of an absent titular."""
    absent = {m.name for m in members if m.titular and not m.present}
    return [
        member
        for member in members
        if member.present
        and (
            member.titular
            or not jury.substitutes_only_for_absent
            or member.substitute_for in absent
        )
    ]


def _substitute_problems(
    jury: CertificationJury, members: Sequence[JuryMember]
) -> list[JuryProblem]:
    if not jury.substitutes_only_for_absent:
        return []
    titulars = {m.name: m for m in members if m.titular}
    problems = []
    for member in members:
        if member.titular or not member.present:
            continue
        replaced = titulars.get(member.substitute_for or "")
        if replaced is None:
            problems.append(
                JuryProblem(
                    "substitute_without_titular",
                    f"{member.name} est suppléant : indiquez le titulaire absent qu'il remplace.",
                )
            )
        elif replaced.present:
            problems.append(
                JuryProblem(
                    "substitute_with_titular_present",
                    f"{member.name} ne peut pas siéger : le suppléant ne siège qu'en l'absence du "
                    f"titulaire qu'il remplace, et {replaced.name} est présent.",
                )
            )
    return problems


def _president_problems(
    jury: CertificationJury, members: Sequence[JuryMember], sitting: Sequence[JuryMember]
) -> list[JuryProblem]:
    if not jury.president_required:
        return []
    presidents = [m for m in members if m.president]
    if not presidents:
        return [JuryProblem("no_president", "Le jury doit désigner un président en son sein.")]
    if len(presidents) > 1:
        return [JuryProblem("two_presidents", "Le jury ne peut avoir qu'un seul président.")]
    if presidents[0] not in sitting:
        return [
            JuryProblem(
                "president_not_sitting",
                f"Le président ({presidents[0].name}) doit être un membre siégeant du jury.",
            )
        ]
    return []


_EXCLUSION_REASONS = {"trained_candidate": "il ou elle a formé le candidat"}


def _reason(kind: str) -> str:
    return _EXCLUSION_REASONS.get(kind, kind)


def _has(seat: Seat, kind: str) -> bool:
    """Whether a seat carries the fact an exclusion names."""
    if kind == "trained_candidate":
        return seat.trained_candidate
    return False


def _french_list(codes: Sequence[str]) -> str:
    if len(codes) == 1:
        return codes[0]
    return ", ".join(codes[:-1]) + " et " + codes[-1]


class CertificationPlugin:
    """A certification: its referential versions (package data) and its rules.

    ``package`` is the plugin's import name and ``referentials`` the YAML resource names inside
    it, one per referential version. Files are read on first use (or by `load`), not at import,
    so building the object in the plugin module costs nothing; any problem raises `PluginError`.
    """

    def __init__(
        self, package: str, referentials: Sequence[str], rules: Rules | None = None
    ) -> None:
        if isinstance(referentials, str):
            raise TypeError("referentials must be a sequence of file names, not a string")
        self.package = package
        self.files = tuple(referentials)
        self.rules = rules if rules is not None else Rules()
        self.name = package
        self._versions: dict[str, Referential] | None = None
        self._current: Referential | None = None

    def __repr__(self) -> str:
        return f"CertificationPlugin({self.package!r}, {list(self.files)!r})"

    def load(self, name: str | None = None) -> CertificationPlugin:
        """Read and check every referential file once; ``name`` (the entry point) names errors."""
        if name is not None:
            self.name = name
        if self._versions is None:
            parsed = [(file, self._read(file)) for file in self.files]
            self._bind(parsed)
        return self

    @classmethod
    def from_referentials(
        cls,
        package: str,
        parsed: Sequence[tuple[str, Referential]],
        rules: Rules | None = None,
    ) -> CertificationPlugin:
        """A plugin over referentials already parsed, e.g. files of a plugin not installed."""
        plugin = cls(package, [file for file, _ in parsed], rules)
        plugin._bind(parsed)
        return plugin

    def _read(self, file: str) -> Referential:
        location = f"{self.package}/{file}"
        try:
            text = resources.files(self.package).joinpath(file).read_text(encoding="utf-8")
        except (OSError, ModuleNotFoundError, UnicodeDecodeError) as exc:
            raise PluginError(self.name, location, [f"cannot read file: {exc}"]) from exc
        try:
            return parse_referential(text)
        except ReferentialError as exc:
            raise PluginError(self.name, location, exc.problems) from exc

    def _bind(self, parsed: Sequence[tuple[str, Referential]]) -> None:
        """Check the versions hang together, then publish them."""
        if not parsed:
            raise PluginError(self.name, None, ["declares no referential file"])
        versions: dict[str, Referential] = {}
        files: dict[str, str] = {}
        first_file, first = parsed[0]
        for file, referential in parsed:
            location = f"{self.package}/{file}"
            if referential.certification.code != first.certification.code:
                raise PluginError(
                    self.name,
                    location,
                    [
                        f"certification.code: {referential.certification.code!r} differs from "
                        f"{first.certification.code!r} in {first_file}"
                    ],
                )
            if referential.version in versions:
                raise PluginError(
                    self.name,
                    location,
                    [
                        f"certification.version: {referential.version!r} already declared in "
                        f"{files[referential.version]}"
                    ],
                )
            versions[referential.version] = referential
            files[referential.version] = file
        for version, referential in versions.items():
            _check_links(self, files[version], referential, versions)
        self._current = _current_version(self, versions, files)
        self._versions = versions

    @property
    def code(self) -> str:
        """The certification's short code (``CRCA``, ``COURTAGE`` …), unique among plugins."""
        return self.current.certification.code

    @property
    def referentials(self) -> Mapping[str, Referential]:
        """Version id -> referential, every version the plugin ships."""
        self.load()
        assert self._versions is not None  # load() sets it or raises
        return MappingProxyType(self._versions)

    @property
    def current(self) -> Referential:
        """The version no other version supersedes: the one new assessments use."""
        self.load()
        assert self._current is not None  # load() sets it or raises
        return self._current

    def referential(self, version: str | None = None) -> Referential:
        """One version (the current one when ``version`` is None); `KeyError` if unknown."""
        if version is None:
            return self.current
        try:
            return self.referentials[version]
        except KeyError:
            known = ", ".join(sorted(self.referentials))
            raise KeyError(f"{self.code}: no referential version {version!r} ({known})") from None

    def translate_blocks(self, from_version: str, block_codes: Iterable[str]) -> frozenset[str]:
        """Blocks acquired under ``from_version`` expressed as blocks of the current version.

        Uses the equivalence table of the current version when it has entries for
        ``from_version``; otherwise walks renewal by renewal through each successor's table.
        A block with no equivalence is dropped (it counts for nothing in the current version).
        """
        codes = frozenset(block_codes)
        self.referential(from_version)  # KeyError for an unknown version
        current = self.current
        version = from_version
        for _ in range(len(self.referentials)):
            if version == current.version:
                return codes
            direct = [e for e in current.equivalences if e.from_version == version]
            if direct:
                return _apply(direct, codes)
            successor = self._successor(version)
            if successor is None:
                return frozenset()
            codes = _apply([e for e in successor.equivalences if e.from_version == version], codes)
            version = successor.version
        return codes if version == current.version else frozenset()

    def _successor(self, version: str) -> Referential | None:
        for referential in self.referentials.values():
            if referential.certification.supersedes == version:
                return referential
        return None


def _apply(equivalences: Iterable[Equivalence], codes: frozenset[str]) -> frozenset[str]:
    return frozenset(
        target for e in equivalences if e.from_block in codes for target in e.to_blocks
    )


def _check_links(
    plugin: CertificationPlugin,
    file: str,
    referential: Referential,
    versions: Mapping[str, Referential],
) -> None:
    """``supersedes`` and equivalences name versions (and blocks) the plugin ships."""
    location = f"{plugin.package}/{file}"
    supersedes = referential.certification.supersedes
    if supersedes is not None and supersedes not in versions:
        raise PluginError(
            plugin.name,
            location,
            [f"certification.supersedes: unknown version {supersedes!r} ({', '.join(versions)})"],
        )
    problems = []
    for index, equivalence in enumerate(referential.equivalences):
        older = versions.get(equivalence.from_version)
        if older is None:
            problems.append(
                f"equivalences[{index}].from_version: unknown version {equivalence.from_version!r}"
            )
        elif equivalence.from_block not in {block.code for block in older.blocks}:
            problems.append(
                f"equivalences[{index}].from_block: no block {equivalence.from_block!r} "
                f"in version {older.version!r}"
            )
    if problems:
        raise PluginError(plugin.name, location, problems)


def _current_version(
    plugin: CertificationPlugin, versions: Mapping[str, Referential], files: Mapping[str, str]
) -> Referential:
    superseded = {r.certification.supersedes for r in versions.values()}
    current = [r for r in versions.values() if r.version not in superseded]
    if len(current) != 1:
        names = ", ".join(f"{r.version} ({files[r.version]})" for r in current) or "none"
        raise PluginError(
            plugin.name,
            None,
            [f"certification.supersedes: exactly one version must be current, found {names}"],
        )
    return current[0]
