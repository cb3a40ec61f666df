"""Regular expressions written by test authors, matched in linear time (RE2).

Python's ``re`` backtracks: ``^(a+)+$`` against 28 ``a`` and a ``!`` takes seconds, and each further
character doubles it. RE2 (google-re2) guarantees time linear in the text, so a pattern in a definition
(``matches``, a JSON Schema's ``pattern``) costs at most a pass over the value it checks. RE2 has no
backreferences (``\\1``) and no look-around (``(?=…)``, ``(?!…)``, ``(?<=…)``); such a pattern is refused
as invalid when the definition is loaded. Repetition counts are at most 1000, and a pattern whose
compiled program would exceed ``MAX_PROGRAM_BYTES`` is refused too.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import re2

if TYPE_CHECKING:  # jsonschema is imported with the first schema a process checks (``schema_validator``)
    from jsonschema.exceptions import ValidationError

MAX_PROGRAM_BYTES = 8 << 20  # memory RE2 may use for one compiled pattern


class PatternError(ValueError):
    """The pattern is not a valid RE2 regular expression."""


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # the error is raised and reported to the author, not logged
    options.max_mem = MAX_PROGRAM_BYTES
    return options


_OPTIONS = _options()


@lru_cache(maxsize=2048)
def compile_pattern(pattern: str) -> re2._Regexp:
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(str(reason)) from None


def check_pattern(pattern: str) -> None:
    """Raise PatternError for a pattern RE2 cannot compile."""
    compile_pattern(pattern)


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches somewhere in ``text`` (like ``re.search``), in linear time."""
    return compile_pattern(pattern).search(text) is not None


# -- JSON Schema (an ``expect.schema``): its patterns go through RE2 as well ------------------------------
# The keywords below run inside jsonschema's validation, so jsonschema is loaded whenever they run.


def _error(message: str) -> ValidationError:
    from jsonschema.exceptions import ValidationError

    return ValidationError(message)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _search_or_refuse(pattern, instance):
        yield _error(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: dict[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _search_or_refuse(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Any, allowed: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = [
        key
        for key in instance
        if key not in properties and not any(_search_or_refuse(pattern, key) for pattern in patterns)
    ]
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:
        shown = ", ".join(repr(extra) for extra in sorted(extras, key=str))
        if patterns:
            yield _error(f"{shown} do not match any of the regexes: {', '.join(map(repr, sorted(patterns)))}")
        else:
            yield _error(f"Additional properties are not allowed ({shown} unexpected)")


def _unevaluated_properties(
    validator: Any, value: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if UNEVALUATED_WITH_PATTERNS in schema_problems(validator.schema):
        yield _error(UNEVALUATED_WITH_PATTERNS)
        return
    from jsonschema import Draft202012Validator

    yield from Draft202012Validator.VALIDATORS["unevaluatedProperties"](validator, value, instance, schema)


def _search_or_refuse(pattern: str, text: str) -> bool:
    try:
        return search(pattern, text)
    except PatternError as error:
        raise SchemaPatternError(f"invalid regular expression {pattern!r}: {error}") from None


class SchemaPatternError(Exception):
    """A pattern of the schema is not valid RE2 (a definition loaded before patterns were checked)."""


UNEVALUATED_WITH_PATTERNS = "unevaluatedProperties cannot be used in a schema that has patternProperties"


@lru_cache(maxsize=1)
def schema_validator() -> Any:
    """Draft 2020-12's validator class with RE2 for ``pattern``, ``patternProperties`` and
    ``additionalProperties``, and ``unevaluatedProperties`` refused beside ``patternProperties``."""
    from jsonschema import Draft202012Validator, validators

    return validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator,
        {
            "pattern": _pattern,
            "patternProperties": _pattern_properties,
            "additionalProperties": _additional_properties,
            "unevaluatedProperties": _unevaluated_properties,
        },
    )


def schema_problems(schema: Any) -> list[str]:
    """What in a JSON Schema RE2 cannot run: invalid patterns, and unevaluatedProperties beside
    patternProperties (which jsonschema would match with Python's backtracking ``re``)."""
    problems: list[str] = []
    has_pattern_properties = has_unevaluated = False
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        patterns = node.get("patternProperties")
        regexes = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        if isinstance(patterns, dict):
            has_pattern_properties = True
            regexes.extend(str(key) for key in patterns)
        has_unevaluated = has_unevaluated or "unevaluatedProperties" in node
        for regex in regexes:
            try:
                check_pattern(regex)
            except PatternError as error:
                problems.append(f"invalid regular expression {regex!r}: {error}")
        pending.extend(node.values())
    if has_pattern_properties and has_unevaluated:
        problems.append(UNEVALUATED_WITH_PATTERNS)
    return problems
