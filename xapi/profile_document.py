"""The xAPI Profile (JSON-LD) ltiservice publishes, built for one IRI base.

The profile is data built from ``Vocabulary`` so that its IRIs and the statements' IRIs come
from the same place; ``build_profile(vocab)`` is served at ``vocab.profile`` and checked by
``xapi.profile.check_statement``. Templates list every statement the service emits; each is
determined by its verb and object activity type.
"""

from __future__ import annotations

import json
from typing import Any

from xapi.vocabulary import (
    PROFILE_VERSION_NUMBER,
    ActivityType,
    Extension,
    OurActivityType,
    Verb,
    Vocabulary,
)

GENERATED_AT = "2026-12-03T00:00:00Z"


def _labels(en: str, fr: str) -> dict[str, str]:
    return {"en": en, "fr": fr}


def _concepts(vocab: Vocabulary) -> list[dict[str, Any]]:
    version = vocab.profile_version
    concepts: list[dict[str, Any]] = [
        {
            "id": vocab.achieved,
            "type": "Verb",
            "inScheme": version,
            "prefLabel": _labels("achieved", "a acquis"),
            "definition": _labels(
                "The block entered the learner's capitalisation ledger: acquired for good.",
                "Le bloc est inscrit au registre de capitalisation : acquis définitivement.",
            ),
        }
    ]
    types = {
        OurActivityType.CERTIFICATION: (
            "A professional certification (CQP, RNCP fiche), whatever its referential version.",
            "Une certification professionnelle (CQP, fiche RNCP), toutes versions du référentiel.",
        ),
        OurActivityType.BLOCK: (
            "A competency block of a certification, keyed by its code across versions.",
            "Un bloc de compétences d'une certification, identifié par son code.",
        ),
        OurActivityType.COMPETENCY: (
            "A competency of a block, named with its wording in the referential.",
            "Une compétence d'un bloc, nommée par son libellé au référentiel.",
        ),
        OurActivityType.CASE: (
            "The practical case (sujet) an assessment asks the learner to work on.",
            "Le cas pratique (sujet) sur lequel porte l'évaluation.",
        ),
    }
    for name, (en, fr) in types.items():
        concepts.append(
            {
                "id": vocab.activity_type(name),
                "type": "ActivityType",
                "inScheme": version,
                "prefLabel": _labels(name, name),
                "definition": _labels(en, fr),
            }
        )
    for name, (kind, schema, en, fr) in _EXTENSIONS.items():
        concepts.append(
            {
                "id": vocab.extension(name),
                "type": kind,
                "inScheme": version,
                "prefLabel": _labels(name.replace("-", " "), name.replace("-", " ")),
                "definition": _labels(en, fr),
                "inlineSchema": json.dumps(schema, sort_keys=True),
            }
        )
    return concepts


_CODE_SCHEMA = {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"}
_IRI_LIST = {"type": "array"}
_EXTENSIONS: dict[str, tuple[str, dict[str, Any], str, str]] = {
    Extension.CERTIFICATION_CODE: (
        "ContextExtension",
        _CODE_SCHEMA,
        "The certification's code in its plugin (stable across referential versions).",
        "Le code de la certification dans son extension (stable d'une version à l'autre).",
    ),
    Extension.BLOCK_CODE: (
        "ContextExtension",
        _CODE_SCHEMA,
        "The block's code in the referential.",
        "Le code du bloc au référentiel.",
    ),
    Extension.RNCP_CODE: (
        "ContextExtension",
        {"type": "string", "pattern": "^RNCP[0-9]+$"},
        "The certification's code in the French national register (RNCP), for this version.",
        "Le code de la certification au Répertoire national (RNCP), pour cette version.",
    ),
    Extension.RNCP_BLOCK_CODE: (
        "ContextExtension",
        {"type": "string", "pattern": "^RNCP[0-9]+BC[0-9]+$"},
        "The block's code in the RNCP, when the referential gives one.",
        "Le code du bloc au RNCP, quand le référentiel le donne.",
    ),
    Extension.REFERENTIAL_VERSION: (
        "ContextExtension",
        _CODE_SCHEMA,
        "The referential version the fact was established under.",
        "La version du référentiel sous laquelle le fait a été établi.",
    ),
    Extension.JURY_ROLE: (
        "ContextExtension",
        {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "The evaluator's seat in the evaluation committee (hierarchy, other_service, …).",
        "La place de l'évaluateur au comité d'évaluation (hiérarchie, autre service, …).",
    ),
    Extension.ATTEMPT: (
        "ContextExtension",
        {"type": "integer", "minimum": 1},
        "The learner's attempt number at the assessment (1 for the first hand-in).",
        "Le numéro de la tentative de l'apprenant (1 pour le premier dépôt).",
    ),
    Extension.COMPETENCY_RESULTS: (
        "ResultExtension",
        {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {"type": "string", "enum": ["acquired", "not_acquired"]},
        },
        "The jury's result per competency code.",
        "Le résultat du jury par code de compétence.",
    ),
    Extension.CRITERION_VERDICTS: (
        "ResultExtension",
        {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {"type": "string", "enum": ["met", "not_met", "not_observed"]},
        },
        "The evaluator's verdict per evaluation criterion id.",
        "L'appréciation de l'évaluateur par critère d'évaluation.",
    ),
    Extension.VERSION_IRIS: (
        "ActivityExtension",
        _IRI_LIST,
        "The per-version IRIs (profile 1.0) this activity was reported under before.",
        "Les IRI par version (profil 1.0) sous lesquelles l'activité était déclarée.",
    ),
    Extension.COUNTS_AS: (
        "ActivityExtension",
        _IRI_LIST,
        "Blocks of the current referential version this block counts as (equivalence table).",
        "Les blocs de la version en vigueur auxquels ce bloc équivaut (table d'équivalence).",
    ),
}


def _common_rules(vocab: Vocabulary) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        {"location": "$.id", "presence": "included"},
        {"location": "$.timestamp", "presence": "included"},
        {"location": "$.actor.objectType", "presence": "included", "all": ["Agent"]},
        {
            "location": "$.actor.account.homePage",
            "presence": "included",
            "scopeNote": _labels("The LTI platform issuer.", "L'émetteur de la plateforme LTI."),
        },
        {
            "location": "$.actor.account.name",
            "presence": "included",
            "scopeNote": _labels(
                "The opaque LTI sub, never a name or an email.",
                "Le sub LTI opaque, jamais un nom ni un courriel.",
            ),
        },
        *(
            {"location": f"$.actor.{field}", "presence": "excluded"}
            for field in ("name", "mbox", "mbox_sha1sum", "openid")
        ),
        {"location": "$.context.instructor.name", "presence": "excluded"},
        {"location": "$.context.team.member[*].name", "presence": "excluded"},
        {"location": "$.context.team.member[*].mbox", "presence": "excluded"},
        {
            "location": "$.context.contextActivities.category[*].id",
            "presence": "included",
            "any": [vocab.profile_version],
        },
        {"location": "$.context.language", "presence": "included", "all": ["fr-FR"]},
    ]
    return rules


_PLATFORM = {"location": "$.context.platform", "presence": "included", "all": ["ltiservice"]}


def _ext(vocab: Vocabulary, name: str, where: str = "context") -> str:
    return f"$.{where}.extensions['{vocab.extension(name)}']"


def _certification_rules(vocab: Vocabulary, with_block: bool) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        {"location": _ext(vocab, Extension.CERTIFICATION_CODE), "presence": "included"},
        {"location": _ext(vocab, Extension.REFERENTIAL_VERSION), "presence": "included"},
        {
            "location": _ext(vocab, Extension.RNCP_CODE),
            "presence": "recommended",
            "scopeNote": _labels(
                "Absent only when the referential has no RNCP fiche.",
                "Absent seulement si le référentiel n'a pas de fiche RNCP.",
            ),
        },
    ]
    if with_block:
        rules += [
            {"location": _ext(vocab, Extension.BLOCK_CODE), "presence": "included"},
            {"location": _ext(vocab, Extension.RNCP_BLOCK_CODE), "presence": "recommended"},
        ]
    return rules


def _team_rule() -> dict[str, Any]:
    return {
        "location": "$.context.team.member[*].account.name",
        "presence": "recommended",
        "scopeNote": _labels(
            "The jury members who signed (pseudonymous); absent only if none is known any more.",
            "Les membres du jury signataires (pseudonymes) ; absent si aucun n'est plus connu.",
        ),
    }


def _score_rules() -> list[dict[str, Any]]:
    return [
        {"location": f"$.result.score.{part}", "presence": "included"}
        for part in ("raw", "min", "max", "scaled")
    ]


def _template(
    vocab: Vocabulary,
    kind: str,
    labels: tuple[str, str, str, str],
    verb: str,
    object_type: str | None,
    context_types: dict[str, list[str]],
    rules: list[dict[str, Any]],
) -> dict[str, Any]:
    en, fr, en_definition, fr_definition = labels
    template: dict[str, Any] = {
        "id": vocab.template(kind),
        "type": "StatementTemplate",
        "inScheme": vocab.profile_version,
        "prefLabel": _labels(en, fr),
        "definition": _labels(en_definition, fr_definition),
        "verb": verb,
    }
    if object_type is not None:
        template["objectActivityType"] = object_type
    for key, types in context_types.items():
        template[key] = types
    template["contextCategoryActivityType"] = [ActivityType.PROFILE]
    # xAPI allows context.platform only when the object is an Activity (not on voids).
    platform = (
        _PLATFORM
        if object_type is not None
        else {"location": "$.context.platform", "presence": "excluded"}
    )
    template["rules"] = [*_common_rules(vocab), platform, *rules]
    return template


def _templates(vocab: Vocabulary) -> list[dict[str, Any]]:
    block = vocab.activity_type(OurActivityType.BLOCK)
    certification = vocab.activity_type(OurActivityType.CERTIFICATION)
    competency = vocab.activity_type(OurActivityType.COMPETENCY)
    case = vocab.activity_type(OurActivityType.CASE)
    on_assessment = {
        "contextParentActivityType": [block],
        "contextGroupingActivityType": [certification, ActivityType.COURSE],
        "contextOtherActivityType": [case],
    }
    registration = {"location": "$.context.registration", "presence": "included"}
    attempt = {"location": _ext(vocab, Extension.ATTEMPT), "presence": "included"}
    no_success = {"location": "$.result.success", "presence": "excluded"}
    no_result = {"location": "$.result", "presence": "excluded"}
    completed = {"location": "$.result.completion", "presence": "included", "all": [True]}
    rests_on = {
        "location": "$.context.statement.objectType",
        "presence": "included",
        "all": ["StatementRef"],
    }
    assessment_rules = [registration, *_certification_rules(vocab, True)]
    templates = [
        _template(
            vocab,
            "launched",
            (
                "Assessment launched",
                "Évaluation ouverte",
                "A learner opened the assessment from the LMS (one per LTI launch).",
                "Un apprenant a ouvert l'évaluation depuis la plateforme (une par lancement).",
            ),
            Verb.LAUNCHED,
            ActivityType.ASSESSMENT,
            on_assessment,
            [*assessment_rules, no_result],
        ),
        _template(
            vocab,
            "submitted",
            (
                "Work handed in",
                "Travail déposé",
                "A learner handed in an attempt; completion is true.",
                "Un apprenant a déposé une tentative ; completion vaut true.",
            ),
            Verb.SUBMITTED,
            ActivityType.ASSESSMENT,
            on_assessment,
            [
                *assessment_rules,
                attempt,
                completed,
                no_success,
                {"location": "$.result.score", "presence": "excluded"},
            ],
        ),
        _template(
            vocab,
            "evaluated",
            (
                "Evaluation signed",
                "Évaluation signée",
                "One evaluator signed their reading: score on the assessment's scale, verdicts "
                "per criterion, the evaluator as instructor. Nothing is decided yet.",
                "Un évaluateur a signé sa lecture : note sur l'échelle de l'évaluation, "
                "appréciation par critère, l'évaluateur en instructor. Rien n'est encore décidé.",
            ),
            Verb.SCORED,
            ActivityType.ASSESSMENT,
            on_assessment,
            [
                *assessment_rules,
                attempt,
                *_score_rules(),
                no_success,
                {"location": "$.result.completion", "presence": "excluded"},
                {"location": "$.context.instructor.account.name", "presence": "included"},
                {"location": _ext(vocab, Extension.JURY_ROLE), "presence": "included"},
                {
                    "location": _ext(vocab, Extension.CRITERION_VERDICTS, "result"),
                    "presence": "included",
                },
            ],
        ),
    ]
    decided = {
        "contextParentActivityType": [certification],
        "contextGroupingActivityType": [ActivityType.COURSE],
        "contextOtherActivityType": [ActivityType.ASSESSMENT, competency],
    }
    for verb, kind, success, en, fr in (
        (Verb.PASSED, "block-passed", True, "Block validated by the jury", "Bloc validé"),
        (Verb.FAILED, "block-failed", False, "Block not validated by the jury", "Bloc non validé"),
    ):
        templates.append(
            _template(
                vocab,
                kind,
                (
                    en,
                    fr,
                    "The jury's decision on the block, score on the assessment's scale, the "
                    "jury as team; a correction points to the superseded statement in "
                    "context.statement.",
                    "La décision du jury sur le bloc, note sur l'échelle de l'évaluation, le "
                    "jury en team ; une correction désigne la déclaration remplacée "
                    "(context.statement).",
                ),
                verb,
                block,
                decided,
                [
                    registration,
                    *_certification_rules(vocab, True),
                    attempt,
                    *_score_rules(),
                    {"location": "$.result.success", "presence": "included", "all": [success]},
                    completed,
                    {
                        "location": _ext(vocab, Extension.COMPETENCY_RESULTS, "result"),
                        "presence": "included",
                    },
                    _team_rule(),
                    {
                        "location": "$.context.statement.id",
                        "presence": "recommended",
                        "scopeNote": _labels(
                            "Only on a correction.", "Seulement sur une correction."
                        ),
                    },
                ],
            )
        )
    per_competency = {
        "contextParentActivityType": [block],
        "contextGroupingActivityType": [certification, ActivityType.COURSE],
        "contextOtherActivityType": [ActivityType.ASSESSMENT],
    }
    for verb, kind, success, en, fr in (
        (Verb.PASSED, "competency-passed", True, "Competency acquired", "Compétence acquise"),
        (
            Verb.FAILED,
            "competency-failed",
            False,
            "Competency not acquired",
            "Compétence non acquise",
        ),
    ):
        templates.append(
            _template(
                vocab,
                kind,
                (
                    en,
                    fr,
                    "One competency's result in a jury decision; context.statement is the "
                    "block's decision statement.",
                    "Le résultat d'une compétence dans une décision du jury ; "
                    "context.statement est la déclaration de décision du bloc.",
                ),
                verb,
                competency,
                per_competency,
                [
                    registration,
                    *_certification_rules(vocab, True),
                    attempt,
                    {"location": "$.result.success", "presence": "included", "all": [success]},
                    completed,
                    {"location": "$.result.score", "presence": "excluded"},
                    rests_on,
                    {"location": "$.context.statement.id", "presence": "included"},
                    _team_rule(),
                ],
            )
        )
    templates += [
        _template(
            vocab,
            "acquired",
            (
                "Block capitalised",
                "Bloc capitalisé",
                "The block is acquired for good; context.statement is the standing decision it "
                "rests on; other lists the current blocks it counts as, for an older version.",
                "Le bloc est acquis définitivement ; context.statement est la décision en vigueur "
                "qui le fonde ; other liste les blocs en vigueur auxquels il équivaut.",
            ),
            vocab.achieved,
            block,
            {
                "contextParentActivityType": [certification],
                "contextGroupingActivityType": [ActivityType.COURSE],
            },
            [
                registration,
                *_certification_rules(vocab, True),
                no_result,
                rests_on,
                {"location": "$.context.statement.id", "presence": "included"},
                _team_rule(),
            ],
        ),
        _template(
            vocab,
            "earned",
            (
                "Certification earned",
                "Certification obtenue",
                "The capitalised blocks meet the combination rule; context.statement is the "
                "decision that completed it.",
                "Les blocs capitalisés satisfont la règle de combinaison ; context.statement est "
                "la décision qui l'a complétée.",
            ),
            Verb.EARNED,
            certification,
            {"contextOtherActivityType": [block]},
            [
                *_certification_rules(vocab, False),
                no_result,
                rests_on,
                {
                    "location": "$.context.contextActivities.other[*].definition.type",
                    "presence": "included",
                    "all": [block],
                },
                {"location": "$.context.registration", "presence": "recommended"},
                _team_rule(),
            ],
        ),
        _template(
            vocab,
            "voided",
            (
                "Statement voided",
                "Déclaration annulée",
                "A correction voids the superseded decision and what rested on it; the voider is "
                "the jury member who signed the correction.",
                "Une correction annule la décision remplacée et ce qui en dépendait ; l'auteur est "
                "le membre du jury qui a signé la correction.",
            ),
            Verb.VOIDED,
            None,
            {},
            [
                {
                    "location": "$.object.objectType",
                    "presence": "included",
                    "all": ["StatementRef"],
                },
                {"location": "$.object.id", "presence": "included"},
                {"location": "$.context.registration", "presence": "recommended"},
                no_result,
            ],
        ),
    ]
    return templates


def build_profile(vocab: Vocabulary) -> dict[str, Any]:
    """The profile document for this IRI base (JSON-LD, xAPI Profiles 1.0)."""
    return {
        "@context": "https://w3id.org/xapi/profiles/context",
        "id": vocab.profile,
        "type": "Profile",
        "conformsTo": "https://w3id.org/xapi/profiles#1.0",
        "prefLabel": _labels(
            "ltiservice: certification block assessment",
            "ltiservice : évaluation des blocs de certification",
        ),
        "definition": _labels(
            "Statements emitted by ltiservice, an LTI 1.3 tool that grades the practical cases "
            "of French professional certifications (CQP, RNCP) block by block: launches, "
            "hand-ins, signed evaluations, jury decisions per block and per competency, "
            "capitalised blocks, earned certifications and corrections. Actors are "
            "pseudonymous LTI accounts.",
            "Déclarations émises par ltiservice, un outil LTI 1.3 qui évalue les cas pratiques "
            "des certifications professionnelles (CQP, RNCP) bloc par bloc : ouvertures, "
            "dépôts, évaluations signées, décisions du jury par bloc et par compétence, blocs "
            "capitalisés, certifications obtenues et corrections. Les acteurs sont des comptes "
            "LTI pseudonymes.",
        ),
        "versions": [{"id": vocab.profile_version, "generatedAtTime": GENERATED_AT}],
        "author": {"type": "Organization", "name": "ltiservice"},
        "concepts": _concepts(vocab),
        "templates": _templates(vocab),
    }


__all__ = ["PROFILE_VERSION_NUMBER", "build_profile"]
