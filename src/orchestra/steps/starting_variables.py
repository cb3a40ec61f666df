"""A run's variables before its first step: the test case's ``variables``, whose values may be templates.

They are rendered in the order they are written, each seeing the ones before it, the environment
(``env``), its ``secrets`` and the run (``run``). A value the run itself gives (an override from the
suite, the CLI or the API) replaces the written one as it is, unrendered, and every template sees it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from orchestra.steps.templating import TemplateError, render_value

Scope = Callable[[dict[str, Any]], Mapping[str, Any]]


def render_variables(written: Mapping[str, Any], given: Mapping[str, Any], scope: Scope) -> dict[str, Any]:
    """``written`` (the definition's) rendered in order, with ``given`` (the run's) taken as they are;
    ``scope`` makes a template scope from the variables so far. Raises TemplateError naming the variable."""
    values: dict[str, Any] = dict(given)
    for name, value in written.items():
        if name in given:
            continue
        try:
            values[name] = render_value(value, scope(values))
        except TemplateError as error:
            raise TemplateError(f"variable '{name}': {error}") from None
    return {**{name: values[name] for name in written}, **given}
