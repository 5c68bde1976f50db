"""The published xAPI Profile (``xapi.profile_document``) and a checker of statements against it.

The statement says which profile it commits to (its ``contextActivities.category``); the checker
builds that profile for the statement's IRI base, so statements of any deployment are checked.

``check_statement`` finds the statement template whose determining properties (verb, object
activity type) match, then checks the template's context activity types, its ``rules`` and our
extensions' inline JSON Schemas. It implements the parts of xAPI Profiles 1.0 this profile uses:
- JSONPath: ``$``, ``.name``, ``['iri']``, ``[*]`` and ``[n]`` (no filters, no recursion);
- rule ``presence`` (included / excluded / recommended), ``any``, ``all``, ``none``, ``selector``;
- JSON Schema: ``type``, ``pattern``, ``enum``, ``minimum``, ``minProperties``,
  ``additionalProperties``.
Anything else in the profile is refused loudly (ProfileError), so the checker never silently
skips a rule it does not understand.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from xapi.profile_document import build_profile
from xapi.vocabulary import PROFILE_VERSION_NUMBER, Vocabulary


class ProfileError(Exception):
    """The profile document uses something this checker does not implement."""


_MISSING = object()
_TOKEN = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[\*\]|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_RULE_KEYS = {"location", "selector", "presence", "any", "all", "none", "scopeNote"}
_DETERMINING_CONTEXT = {
    "contextParentActivityType": "parent",
    "contextGroupingActivityType": "grouping",
    "contextOtherActivityType": "other",
    "contextCategoryActivityType": "category",
}


@cache
def load_profile(base: str) -> dict[str, Any]:
    """The profile for the IRI base ``base`` (cached; treat the result as read-only)."""
    profile = build_profile(Vocabulary(base))
    if profile.get("type") != "Profile" or not profile.get("templates"):
        raise ProfileError("the profile document is not an xAPI Profile with templates")
    return profile


def vocabulary_of(statement: dict[str, Any]) -> Vocabulary | None:
    """The vocabulary whose profile version the statement commits to in its category."""
    suffix = f"/profile/{PROFILE_VERSION_NUMBER}"
    for iri in evaluate_path("$.context.contextActivities.category[*].id", statement):
        if isinstance(iri, str) and iri.endswith(suffix):
            try:
                return Vocabulary(iri.removesuffix(suffix))
            except ValueError:
                return None
    return None


def find_template(statement: dict[str, Any]) -> dict[str, Any] | None:
    """The template whose verb and object activity type match the statement, if any."""
    vocab = vocabulary_of(statement)
    if vocab is None:
        return None
    verb = _get(statement, "verb", "id")
    object_type = _get(statement, "object", "definition", "type")
    templates: list[dict[str, Any]] = load_profile(vocab.base)["templates"]
    for template in templates:
        wanted_type = template.get("objectActivityType", _MISSING)
        if template["verb"] == verb and (wanted_type is _MISSING or wanted_type == object_type):
            return template
    return None


def check_statement(statement: dict[str, Any]) -> list[str]:
    """Problems of ``statement`` with respect to the profile; empty when it conforms.

    Each problem is one line naming the template and the rule's location.
    """
    vocab = vocabulary_of(statement)
    if vocab is None:
        return [f"no profile version .../profile/{PROFILE_VERSION_NUMBER} in the category"]
    template = find_template(statement)
    if template is None:
        return [
            f"no template of {vocab.profile_version} for verb {_get(statement, 'verb', 'id')!r} "
            f"and object type {_get(statement, 'object', 'definition', 'type')!r}"
        ]
    name = template["id"]
    problems = [f"{name}: {p}" for p in _check_context_types(template, statement)]
    for rule in template.get("rules", []):
        problems.extend(f"{name}: {p}" for p in _check_rule(rule, statement))
    problems.extend(f"{name}: {p}" for p in _check_extensions(vocab, statement))
    return problems


def evaluate_path(path: str, document: Any) -> list[Any]:
    """Values at a JSONPath (our subset) in ``document``; missing members yield nothing."""
    if not path.startswith("$"):
        raise ProfileError(f"JSONPath must start with $: {path!r}")
    values = [document]
    position = 1
    while position < len(path):
        match = _TOKEN.match(path, position)
        if match is None:
            raise ProfileError(f"unsupported JSONPath at {path[position:]!r} in {path!r}")
        values = list(_step(values, match))
        position = match.end()
    return values


def _step(values: list[Any], match: re.Match[str]) -> Iterator[Any]:
    name = match.group(1) or match.group(3) or match.group(4)
    index = match.group(2)
    for value in values:
        if name is not None:
            if isinstance(value, dict) and name in value:
                yield value[name]
        elif index is not None:
            if isinstance(value, list) and int(index) < len(value):
                yield value[int(index)]
        elif isinstance(value, list):
            yield from value
        elif isinstance(value, dict):
            yield from value.values()


def _check_rule(rule: dict[str, Any], statement: dict[str, Any]) -> list[str]:
    unknown = set(rule) - _RULE_KEYS
    if unknown:
        raise ProfileError(f"unsupported rule keys {sorted(unknown)}")
    location = rule["location"]
    values = evaluate_path(location, statement)
    if "selector" in rule:
        values = [found for value in values for found in evaluate_path(rule["selector"], value)]
    presence = rule.get("presence")
    if presence == "included" and (not values or any(v is None for v in values)):
        return [f"{location} must be present"]
    if presence == "excluded" and values:
        return [f"{location} must be absent"]
    if presence not in (None, "included", "excluded", "recommended"):
        raise ProfileError(f"unsupported presence {presence!r}")
    problems = []
    if values and "any" in rule and not any(_member(v, rule["any"]) for v in values):
        problems.append(f"{location} must include one of {rule['any']}")
    if values and "all" in rule and not all(_member(v, rule["all"]) for v in values):
        problems.append(f"{location} values must all be among {rule['all']}")
    if "none" in rule and any(_member(v, rule["none"]) for v in values):
        problems.append(f"{location} must not include any of {rule['none']}")
    return problems


def _member(value: Any, allowed: list[Any]) -> bool:
    # JSON equality: true must not equal 1 (Python's True == 1 would let a number pass).
    return any(type(value) is type(item) and value == item for item in allowed)


def _check_context_types(template: dict[str, Any], statement: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for key, field in _DETERMINING_CONTEXT.items():
        wanted = template.get(key, [])
        present = evaluate_path(
            f"$.context.contextActivities.{field}[*].definition.type", statement
        )
        problems.extend(
            f"context activity {field} needs an activity of type {w}"
            for w in wanted
            if w not in present
        )
    return problems


def _check_extensions(vocab: Vocabulary, statement: dict[str, Any]) -> list[str]:
    schemas = _extension_schemas(vocab.base)
    problems = []
    for where, kind in (("context", "ContextExtension"), ("result", "ResultExtension")):
        extensions = _get(statement, where, "extensions")
        if not isinstance(extensions, dict):
            continue
        for iri, value in extensions.items():
            known = schemas.get(iri)
            if known is None:
                if iri.startswith(vocab.base + "/"):
                    problems.append(f"{where} extension {iri} is not in the profile")
                continue
            if known[0] != kind:
                problems.append(f"{iri} is a {known[0]}, found in {where}")
            problems.extend(f"{iri}: {p}" for p in _check_schema(known[1], value))
    return problems


@cache
def _extension_schemas(base: str) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        concept["id"]: (concept["type"], json.loads(concept["inlineSchema"]))
        for concept in load_profile(base)["concepts"]
        if concept["type"].endswith("Extension")
    }


_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "object": dict,
    "array": list,
    "boolean": bool,
    "number": (int, float),
    "integer": int,
}
_SCHEMA_KEYS = {"type", "pattern", "enum", "minimum", "minProperties", "additionalProperties"}


def _check_schema(schema: dict[str, Any], value: Any) -> list[str]:
    unknown = set(schema) - _SCHEMA_KEYS
    if unknown:
        raise ProfileError(f"unsupported JSON Schema keywords {sorted(unknown)}")
    expected = schema.get("type")
    if expected is not None:
        python_type = _JSON_TYPES[expected]
        if not isinstance(value, python_type) or (
            isinstance(value, bool) and expected != "boolean"
        ):
            return [f"must be a JSON {expected}"]
    problems = []
    if "minimum" in schema and value < schema["minimum"]:
        problems.append(f"{value!r} is below the minimum {schema['minimum']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        problems.append(f"{value!r} does not match {schema['pattern']}")
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{value!r} is not one of {schema['enum']}")
    if isinstance(value, dict):
        if len(value) < schema.get("minProperties", 0):
            problems.append(f"needs at least {schema['minProperties']} member(s)")
        if "additionalProperties" in schema:
            for key, item in value.items():
                problems.extend(
                    f"[{key!r}] {p}" for p in _check_schema(schema["additionalProperties"], item)
                )
    return problems


def _get(document: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document
