"""Which variables a run of a test case may be given (``POST /runs``): those it declares, the columns of
its ``parameters`` rows, what its steps ``set`` or capture, and the names its templates read. Any other
name would be ignored silently, most often a typo, so it is refused with the names that would do."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from orchestra.errors import InvalidInput
from orchestra.steps.template_names import template_names

_SECTIONS = ("setup", "steps", "teardown")
MAX_LISTED = 20


def _step_names(steps: Iterable[Any]) -> set[str]:
    names: set[str] = set()
    for step in steps:
        if isinstance(step, dict):
            for key in ("set", "capture"):
                if isinstance(step.get(key), dict):
                    names |= set(step[key])
    return names


def usable_variables(definition: dict[str, Any]) -> set[str] | None:
    """The names a run of this stored definition may be given; None: any (a template reads ``vars``)."""
    read = template_names(definition)
    if "vars" in read:
        return None
    declared = set(definition.get("variables") or {})
    rows = definition.get("parameters")
    if isinstance(rows, list):
        declared |= {name for row in rows if isinstance(row, dict) for name in row}
    for section in _SECTIONS:
        declared |= _step_names(definition.get(section) or [])
    return declared | read


def check_run_variables(test_case: str, definition: dict[str, Any], given: Iterable[str]) -> None:
    """Refuse (422) a variable the test case neither declares nor reads."""
    given = list(given)
    if not given:
        return  # nothing to check: the templates of a long definition are not read for nothing
    usable = usable_variables(definition)
    if usable is None:
        return
    unknown = [name for name in given if name not in usable]
    if not unknown:
        return
    declared = sorted(definition.get("variables") or {})
    known = ", ".join(declared[:MAX_LISTED]) + (", …" if len(declared) > MAX_LISTED else "")
    plural = "s" if len(unknown) > 1 else ""
    raise InvalidInput(
        f"test case '{test_case}' does not declare or use the variable{plural} "
        f"{', '.join(repr(name) for name in unknown[:MAX_LISTED])}"
        + (f" (it declares: {known})" if declared else " (it declares no variables)")
        + "; a run may set the variables a test case declares, its parameters' columns, and the names "
        "its templates read"
    )
