"""The variable names a definition's templates read: what a run may be given besides its declared
variables (``POST /runs`` refuses the others; see runs/run_variables.py)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError, meta

from orchestra.steps.templating import ENVIRONMENT

MAX_TEMPLATES = 100_000  # strings looked at in one definition (a 1 MiB file holds far fewer templates)


def template_names(value: Any) -> set[str]:
    """Every top-level name the templates in ``value`` (strings, at any depth, keys too) read and do not
    set themselves; a template that does not parse reads nothing (it is the step's error when rendered)."""
    names: set[str] = set()
    pending: list[Any] = [value]
    seen = 0
    while pending and seen < MAX_TEMPLATES:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and ("{{" in item or "{%" in item):
            seen += 1
            names |= _names_read(item)
    return names


@lru_cache(maxsize=4096)  # a definition repeats its templates (a step written once, run many times)
def _names_read(template: str) -> frozenset[str]:
    try:
        return frozenset(meta.find_undeclared_variables(ENVIRONMENT.parse(template)))
    except TemplateSyntaxError:
        return frozenset()
