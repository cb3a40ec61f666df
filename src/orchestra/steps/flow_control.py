"""A step's ``if`` and its loop (``for_each`` / ``repeat``): rendered in a template thread like the rest.

A condition must render to a boolean (or the text ``true`` / ``false``); a loop to a list of at most
``MAX_ITERATIONS`` items. Anything else is the step's error, reported before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestra.definitions.testcase_model import MAX_ITERATIONS, FlowControl
from orchestra.steps.templating import render_value


class FlowError(ValueError):
    """A condition or a loop rendered to something it cannot be; the message says what and why."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def written_condition(condition: bool | str | None) -> str:
    """A condition as written, for the reason of a skipped step or check."""
    return str(condition).lower() if isinstance(condition, bool) else str(condition)


def skipped_reason(condition: bool | str | None) -> str:
    """Why a step or a check whose condition is false was skipped: ``if {{ role == 'admin' }}: false``."""
    return f"if {written_condition(condition)}: false"


def holds(condition: bool | str | None, scope: Mapping[str, Any]) -> bool:
    """Whether an ``if`` holds (True when there is none); it must render to a boolean or 'true'/'false'."""
    if condition is None:
        return True
    value = render_value(condition, scope)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise FlowError(
        f"if {written_condition(condition)!r} rendered to {_shown(value)} ({type(value).__name__}); "
        "a condition must be true or false"
    )


def condition_holds(step: FlowControl, scope: Mapping[str, Any]) -> bool:
    """Whether the step's ``if`` holds (True when it has none)."""
    return holds(step.condition, scope)


def loop_items(step: FlowControl, scope: Mapping[str, Any]) -> list[Any]:
    """The items the step runs for: those of ``for_each``, or 1..n for ``repeat: n``."""
    if step.for_each is not None:
        items = render_value(step.for_each, scope)
        if not isinstance(items, list):
            raise FlowError(
                f"for_each {_shown(step.for_each)} rendered to {_shown(items)} ({type(items).__name__}); "
                "it must be a list"
            )
        if len(items) > MAX_ITERATIONS:
            raise FlowError(f"for_each has {len(items)} items; a step runs at most {MAX_ITERATIONS} times")
        return items
    count = render_value(step.repeat, scope)
    if isinstance(count, str) and count.strip().isdigit():
        count = int(count)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise FlowError(
            f"repeat {_shown(step.repeat)} rendered to {_shown(count)}; it must be a count (0 or more)"
        )
    if count > MAX_ITERATIONS:
        raise FlowError(f"repeat is {count}; a step runs at most {MAX_ITERATIONS} times")
    return list(range(1, count + 1))


def iteration_variables(step: FlowControl, items: list[Any], index: int) -> dict[str, Any]:
    """What the templates of iteration ``index`` (0-based) see besides the run's variables."""
    return {
        step.loop_variable: items[index],
        "loop": {
            "index": index + 1,
            "index0": index,
            "first": index == 0,
            "last": index == len(items) - 1,
            "length": len(items),
        },
    }
