"""Two runs of one test case side by side: steps aligned by phase, name and occurrence; checks, response
status and body (a JSON diff) compared; pure functions of what the runs stored."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol

from orchestra.insights.json_diff import json_diff
from orchestra.insights.schemas import CheckComparison, DifferenceOut, StepComparison
from orchestra.kit.recorded_body import json_or_text


class StoredStep(Protocol):
    @property
    def phase(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def duration_ms(self) -> float: ...
    @property
    def response(self) -> dict[str, Any] | None: ...
    @property
    def assertions(self) -> list[dict[str, Any]]: ...


def _keyed(steps: Sequence[StoredStep]) -> dict[tuple[str, str, int], StoredStep]:
    seen: Counter[tuple[str, str]] = Counter()
    keyed = {}
    for step in steps:
        seen[(step.phase, step.name)] += 1
        keyed[(step.phase, step.name, seen[(step.phase, step.name)])] = step
    return keyed


def body_of(response: dict[str, Any] | None) -> Any:
    return json_or_text((response or {}).get("body"))


def differences(left: Any, right: Any) -> list[DifferenceOut]:
    return [
        DifferenceOut(path=d.path, change=d.change, left=d.left, right=d.right)
        for d in json_diff(left, right)
    ]


def _checks(left: StoredStep | None, right: StoredStep | None) -> list[CheckComparison]:
    def keyed(step: StoredStep | None) -> dict[tuple[str, int], dict[str, Any]]:
        seen: Counter[str] = Counter()
        found = {}
        for assertion in step.assertions if step else []:
            check = str(assertion.get("check"))
            seen[check] += 1
            found[(check, seen[check])] = assertion
        return found

    lefts, rights = keyed(left), keyed(right)
    out = []
    for key in list(lefts) + [key for key in rights if key not in lefts]:
        a, b = lefts.get(key, {}), rights.get(key, {})
        out.append(
            CheckComparison(
                check=key[0],
                left_passed=a.get("passed") if a else None,
                right_passed=b.get("passed") if b else None,
                expected=(a or b).get("expected"),
                left_actual=a.get("actual"),
                right_actual=b.get("actual"),
            )
        )
    return out


def _status(step: StoredStep | None) -> int | None:
    value = (step.response or {}).get("status") if step else None
    return value if isinstance(value, int) else None


def compare_steps(left: Sequence[StoredStep], right: Sequence[StoredStep]) -> list[StepComparison]:
    """Every step of either run, in the left run's order, then the right run's own."""
    lefts, rights = _keyed(left), _keyed(right)
    compared = []
    for key in list(lefts) + [key for key in rights if key not in lefts]:
        a, b = lefts.get(key), rights.get(key)
        checks = _checks(a, b)
        body = differences(body_of(a.response), body_of(b.response)) if a and b else []
        same = (
            a is not None
            and b is not None
            and a.status == b.status
            and _status(a) == _status(b)
            and not body
            and all(c.left_passed == c.right_passed and c.left_actual == c.right_actual for c in checks)
        )
        compared.append(
            StepComparison(
                phase=key[0],
                name=key[1],
                left_status=a.status if a else None,
                right_status=b.status if b else None,
                left_duration_ms=a.duration_ms if a else None,
                right_duration_ms=b.duration_ms if b else None,
                left_response_status=_status(a),
                right_response_status=_status(b),
                same=same,
                checks=checks,
                body=body,
            )
        )
    return compared
