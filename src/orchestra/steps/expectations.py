"""Checking a response against an ``expect`` block: one precise, storable result per check."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from orchestra.definitions.testcase_model import (
    Expect,
    JsonPathCheck,
    LengthComparison,
    Matcher,
    StatusRange,
    compile_jsonpath,
)
from orchestra.kit.user_patterns import PatternError, schema_validator
from orchestra.kit.user_patterns import search as pattern_search
from orchestra.steps.flow_control import FlowError, holds, skipped_reason
from orchestra.steps.response import ResponseView
from orchestra.steps.templating import TemplateError, render_value

MAX_STORED_TEXT = 2048
MAX_SCHEMA_ERRORS = 5
_COMPARISONS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "gt": (">", lambda a, b: a > b),
    "gte": (">=", lambda a, b: a >= b),
    "lt": ("<", lambda a, b: a < b),
    "lte": ("<=", lambda a, b: a <= b),
}


STATUS_FAILED = "status check failed"


@dataclass(slots=True)
class AssertionResult:
    """One check's result. A skipped check (``skipped`` holds why) was not evaluated: it is not passed."""

    check: str
    passed: bool
    expected: Any
    actual: Any
    message: str
    name: str | None = None
    skipped: str | None = None

    @property
    def outcome(self) -> str:
        return "skipped" if self.skipped is not None else "passed" if self.passed else "failed"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for storage; long strings are cut to keep run records small. ``name`` and
        ``reason`` (why a check was skipped) are there only when the check has them."""
        stored = {
            "check": self.check,
            "passed": self.passed,
            "outcome": self.outcome,
            "expected": _jsonable(self.expected),
            "actual": _jsonable(self.actual),
            "message": self.message,
        }
        if self.name is not None:
            stored["name"] = self.name
        if self.skipped is not None:
            stored["reason"] = self.skipped
        return stored

    def named(self, name: str | None) -> AssertionResult:
        """The result under the check's name: kept apart, and put before the message so every report
        that shows the message shows the name."""
        if name is not None:
            self.name = name
            self.message = f"[{name}] {self.message}"
        return self


def skipped_check(check: str, expected: Any, reason: str, name: str | None = None) -> AssertionResult:
    """A check that was not evaluated, and why."""
    subject = check.removeprefix("json ")
    result = AssertionResult(check, False, expected, None, f"{subject}: skipped ({reason})", skipped=reason)
    return result.named(name)


def all_passed(results: Iterable[AssertionResult]) -> bool:
    """No check failed: each passed or was skipped (a check skipped by the status gate comes with a failed
    status check, so its step fails all the same)."""
    return all(result.passed or result.skipped is not None for result in results)


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _jsonable(value.model_dump(mode="json", by_alias=True, exclude_unset=True))
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str) and len(value) > MAX_STORED_TEXT:
        return value[:MAX_STORED_TEXT] + "...(truncated)"
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _fmt(value: Any, limit: int = 120) -> str:
    """A short, JSON-flavoured rendering of a value for messages: 'text', 7.5, true, null, [1, 2]."""
    if value is None or isinstance(value, bool):
        text = {None: "null", True: "true", False: "false"}[value]
    elif isinstance(value, list):
        text = "[" + ", ".join(_fmt(item, limit) for item in value) + "]"
    elif isinstance(value, dict):
        text = (
            "{" + ", ".join(f"{_fmt(key, limit)}: {_fmt(item, limit)}" for key, item in value.items()) + "}"
        )
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)


def _is_type(value: Any, expected: str) -> bool:
    actual = _json_type(value)
    if expected == "number":
        return actual in ("integer", "number")
    if expected == "integer":
        return actual == "integer" or (actual == "number" and float(value).is_integer())
    return actual == expected


def _json_equal(left: Any, right: Any) -> bool:
    """Equality as JSON sees it: 1 == 1.0, but true != 1 and '1' != 1."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[key], right[key]) for key in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_json_equal(a, b) for a, b in zip(left, right, strict=True))
    return type(left) is type(right) and left == right


def _contains(container: Any, item: Any) -> bool | None:
    """Substring, list element or object subset; None when containment means nothing for the types."""
    if isinstance(container, str):
        return item in container if isinstance(item, str) else None
    if isinstance(container, list):
        return any(_json_equal(element, item) for element in container)
    if isinstance(container, dict) and isinstance(item, dict):
        return all(key in container and _json_equal(container[key], value) for key, value in item.items())
    return None


def _number(value: Any, from_text: bool) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if from_text and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _compare(actual: float, operator: str, operand: Any) -> bool:
    return (
        isinstance(operand, int | float)
        and not isinstance(operand, bool)
        and _COMPARISONS[operator][1](actual, operand)
    )


Outcome = tuple[bool, str, str]  # passed, what was expected, what was got


def _length_outcome(actual: Any, length: int | str | LengthComparison) -> Outcome:
    if isinstance(length, LengthComparison):
        bounds = [(op, getattr(length, op)) for op in _COMPARISONS if getattr(length, op) is not None]
        phrase = "length " + " and ".join(f"{_COMPARISONS[op][0]} {operand}" for op, operand in bounds)
    else:
        bounds, phrase = [], f"length {length}"
    if not isinstance(actual, str | list | dict):
        return False, phrase, f"{_fmt(actual)} (which has no length)"
    size = len(actual)
    if isinstance(length, LengthComparison):
        return all(_compare(size, op, operand) for op, operand in bounds), phrase, str(size)
    return size == length, phrase, str(size)


def _matcher_outcomes(matcher: Matcher, actual: Any, *, from_text: bool) -> list[Outcome]:
    """One outcome per key of the matcher, in the order the keys are declared."""
    outcomes: list[Outcome] = []
    got = _fmt(actual)
    for key in (name for name in Matcher.model_fields if name in matcher.model_fields_set):
        operand = getattr(matcher, key)
        if key == "equals":
            outcomes.append((_json_equal(actual, operand), _fmt(operand), got))
        elif key == "not_equals":
            outcomes.append((not _json_equal(actual, operand), f"not {_fmt(operand)}", got))
        elif key in ("contains", "not_contains"):
            found = _contains(actual, operand)
            note = "" if found is not None else " (not a string, list or object of that kind)"
            phrase = ("to contain " if key == "contains" else "not to contain ") + _fmt(operand)
            outcomes.append((found is (key == "contains"), phrase, got + note))
        elif key == "matches":
            outcomes.append(_regex_outcome(actual, operand, got))
        elif key == "exists":
            outcomes.append((operand, "to exist" if operand else "not to exist", got))
        elif key == "type":
            outcomes.append((_is_type(actual, operand), f"type {operand}", f"{_json_type(actual)} {got}"))
        elif key == "length":
            outcomes.append(_length_outcome(actual, operand))
        elif key in _COMPARISONS:
            number = _number(actual, from_text)
            phrase = f"{_COMPARISONS[key][0]} {_fmt(operand)}"
            if number is None:
                outcomes.append((False, phrase, f"{got} (not a number)"))
            else:
                outcomes.append((_compare(number, key, operand), phrase, got))
        elif key == "one_of":
            outcomes.append(
                (any(_json_equal(actual, option) for option in operand), f"one of {_fmt(operand)}", got)
            )
    return outcomes


def _regex_outcome(actual: Any, pattern: str, got: str) -> Outcome:
    phrase = f"to match {pattern!r}"
    if not isinstance(actual, str):
        return False, phrase, f"{got} (not a string)"
    try:
        return pattern_search(pattern, actual), phrase, got
    except PatternError as error:
        return False, phrase, f"{got} (invalid regular expression: {error})"


def _describe(outcomes: list[Outcome], passed: bool) -> str:
    """'expected A and B, got X' per distinct 'got'; a failure lists only what failed."""
    shown = outcomes if passed else [outcome for outcome in outcomes if not outcome[0]]
    by_got: dict[str, list[str]] = {}
    for _, phrase, got in shown:
        by_got.setdefault(got, []).append(phrase)
    return "; ".join(f"expected {' and '.join(phrases)}, got {got}" for got, phrases in by_got.items())


def _value_check(
    check: str, subject: str, expected: Any, actual: Any, *, from_text: bool = False
) -> AssertionResult:
    matcher = expected if isinstance(expected, Matcher) else None
    outcomes = (
        _matcher_outcomes(matcher, actual, from_text=from_text)
        if matcher is not None
        else [(_json_equal(actual, expected), _fmt(expected), _fmt(actual))]
    )
    passed = all(outcome[0] for outcome in outcomes)
    return AssertionResult(check, passed, expected, actual, f"{subject}: {_describe(outcomes, passed)}")


def _missing_check(check: str, subject: str, expected: Any, missing: str) -> AssertionResult:
    """The path matched nothing or the header is absent: only ``exists: false`` passes."""
    matcher = expected if isinstance(expected, Matcher) else None
    if matcher is not None and matcher.exists is False:
        return AssertionResult(
            check, True, expected, None, f"{subject}: expected not to exist, and {missing}"
        )
    if matcher is not None:
        phrases = [phrase for _, phrase, _ in _matcher_outcomes(matcher, None, from_text=False)]
    else:
        phrases = [_fmt(expected)]
    return AssertionResult(
        check, False, expected, None, f"{subject}: expected {' and '.join(phrases)}, but {missing}"
    )


def _status_check(expected: Any, status: int) -> AssertionResult:
    if isinstance(expected, StatusRange):
        passed, phrase = expected.min <= status <= expected.max, f"between {expected.min} and {expected.max}"
    elif isinstance(expected, list):
        passed, phrase = status in expected, f"one of {_fmt(expected)}"
    elif isinstance(expected, str):
        passed, phrase = str(status)[0] == expected[0], expected
    else:
        passed, phrase = status == expected, str(expected)
    return AssertionResult("status", passed, expected, status, f"status: expected {phrase}, got {status}")


def _header_check(name: str, expected: Any, response: ResponseView) -> AssertionResult:
    check = f"header {name}"
    actual = response.headers.get(name)
    if actual is None:
        missing = _missing_check(check, check, expected, f"header {name} is missing")
        if not missing.passed:
            missing.message = f"header {name} is missing"
        return missing
    if not isinstance(expected, Matcher):
        text = {True: "true", False: "false"}[expected] if isinstance(expected, bool) else str(expected)
        passed = actual == text
        return AssertionResult(check, passed, expected, actual, f"{check}: expected {text!r}, got {actual!r}")
    return _value_check(check, check, expected, actual, from_text=True)


def _not_json(response: ResponseView) -> str:
    return (
        f"response body is not JSON (content-type: {response.content_type or 'none'}): {response.text[:80]!r}"
    )


def find_values(path: str, document: Any) -> list[Any]:
    """Every value a JSONPath matches in ``document`` (the path is compiled once and cached)."""
    return [match.value for match in compile_jsonpath(path).find(document)]


def _json_path_check(path: str, expected: Any, response: ResponseView) -> AssertionResult:
    check = f"json {path}"
    if not response.is_json:
        return AssertionResult(check, False, expected, None, f"{path}: {_not_json(response)}")
    try:
        values = find_values(path, response.json_value)
    except Exception as error:  # filters comparing mismatched types raise from inside jsonpath-ng
        return AssertionResult(check, False, expected, None, f"{path}: could not evaluate the path: {error}")
    if not values:
        return _missing_check(check, path, expected, "the path matched nothing")
    return _value_check(check, path, expected, values[0] if len(values) == 1 else values)


def _schema_check(schema: dict[str, Any], response: ResponseView) -> AssertionResult:
    if not response.is_json:
        return AssertionResult("schema", False, None, None, f"schema: {_not_json(response)}")
    checking = schema_validator()
    validator = checking(schema, format_checker=checking.FORMAT_CHECKER)
    try:
        errors = list(validator.iter_errors(response.json_value))
    except Exception as error:  # e.g. a $ref that cannot be resolved
        return AssertionResult("schema", False, None, None, f"schema: could not validate: {error}")
    if not errors:
        return AssertionResult("schema", True, None, [], "schema: the body matches the schema")
    from jsonschema.exceptions import best_match  # loaded by schema_validator()

    # Shallow problems first, otherwise document order; anyOf/oneOf errors replaced by their best sub-error.
    errors = [best_match([error]) or error for error in sorted(errors, key=lambda error: len(error.path))]
    problems = [f"{error.json_path}: {_cut(error.message, 200)}" for error in errors[:MAX_SCHEMA_ERRORS]]
    more = f" (and {len(errors) - MAX_SCHEMA_ERRORS} more)" if len(errors) > MAX_SCHEMA_ERRORS else ""
    return AssertionResult("schema", False, None, problems, "schema: " + "; ".join(problems) + more)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _body_check(expected: Any, response: ResponseView) -> AssertionResult:
    if isinstance(expected, Matcher) or isinstance(expected, str):
        return _value_check("body", "body", expected, response.text, from_text=True)
    if not response.is_json:  # a structured literal is compared with the parsed body
        return AssertionResult("body", False, expected, None, f"body: {_not_json(response)}")
    return _value_check("body", "body", expected, response.json_value)


def _time_check(max_ms: int, elapsed_ms: float) -> AssertionResult:
    message = f"response time: expected at most {max_ms} ms, got {elapsed_ms:.1f} ms"
    return AssertionResult("max_ms", elapsed_ms <= max_ms, max_ms, round(elapsed_ms, 3), message)


def evaluate(expect: Expect, response: ResponseView, *, status_gates: bool = True) -> list[AssertionResult]:
    """One result per check, passed or not, in a fixed order: status, headers, json, schema, body, time.

    ``status_gates``: when the status check fails, the checks of the body (json, schema, body) are skipped
    with the reason 'status check failed': an error page does not hold the body they describe. Headers and
    the response time are checked whatever the status (they mean the same on any response)."""
    results: list[AssertionResult] = []
    if expect.status is not None:
        results.append(_status_check(expect.status, response.status))
    gated = status_gates and not all_passed(results)
    results.extend(_header_check(name, expected, response) for name, expected in expect.headers.items())
    for path, expected, name, unless in expect.json_checks():
        if unless is not None:
            results.append(skipped_check(f"json {path}", expected, unless, name))
        elif gated:
            results.append(skipped_check(f"json {path}", expected, STATUS_FAILED, name))
        else:
            results.append(_json_path_check(path, expected, response).named(name))
    if expect.json_schema is not None and gated:
        results.append(skipped_check("schema", None, STATUS_FAILED))
    elif expect.json_schema is not None:
        results.append(_schema_check(expect.json_schema, response))
    if expect.has_body and gated:
        results.append(skipped_check("body", expect.body, STATUS_FAILED))
    elif expect.has_body:
        results.append(_body_check(expect.body, response))
    if expect.max_ms is not None:
        results.append(_time_check(expect.max_ms, response.elapsed_ms))
    return results


def _render_expected(value: Any, scope: Mapping[str, Any], where: str) -> Any:
    try:
        if not isinstance(value, Matcher):
            return render_value(value, scope)
        operands = value.model_dump(by_alias=True, exclude_unset=True)
        rendered = render_value(operands, scope)
        return value if rendered is operands else Matcher.model_validate(rendered)
    except TemplateError as error:
        raise TemplateError(f"{where}: {error}") from None
    except ValidationError as error:
        problem = error.errors()[0]
        key = ".".join(str(part) for part in problem["loc"] if part not in ("count", "comparison"))
        message = problem["msg"].removeprefix("Value error, ")
        raise TemplateError(f"{where}: {key}: {message} (after rendering)") from None


def _render_json_check(check: JsonPathCheck, scope: Mapping[str, Any]) -> JsonPathCheck:
    """The check with its operands rendered; a check whose ``if`` is false is not rendered (its operands may
    name what the condition found missing): it is marked to be reported as skipped."""
    try:
        condition_holds = holds(check.condition, scope)
    except TemplateError as error:
        raise TemplateError(f"expect.json {check.path} if: {error}") from None
    except FlowError as error:
        raise FlowError(f"expect.json {check.path}: {error}") from None
    if not condition_holds:
        skipped = check.model_copy()
        skipped.skipped_because = skipped_reason(check.condition)
        return skipped
    matcher = check.matcher()
    rendered = _render_expected(matcher, scope, f"expect.json {check.path}")
    if rendered is matcher:
        return check
    keys = rendered.model_dump(by_alias=True, exclude_unset=True)
    named = {"name": check.name} if check.name is not None else {}
    return JsonPathCheck.model_validate({"path": check.path, **named, **keys})


def render_expect(expect: Expect, scope: Mapping[str, Any]) -> Expect:
    """The expectation with templates rendered in header values, json values, matcher operands and body."""
    update: dict[str, Any] = {}
    if expect.headers:
        update["headers"] = {
            name: _render_expected(value, scope, f"expect.headers.{name}")
            for name, value in expect.headers.items()
        }
    if isinstance(expect.json_paths, list):
        update["json_paths"] = [_render_json_check(check, scope) for check in expect.json_paths]
    elif expect.json_paths:
        update["json_paths"] = {
            path: _render_expected(value, scope, f"expect.json {path}")
            for path, value in expect.json_paths.items()
        }
    if expect.has_body:
        update["body"] = _render_expected(expect.body, scope, "expect.body")
    return expect.model_copy(update=update) if update else expect
