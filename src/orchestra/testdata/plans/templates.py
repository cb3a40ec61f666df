"""What the templates of a plan refer to, read from Jinja's syntax tree without rendering anything."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import meta, nodes
from jinja2.exceptions import TemplateSyntaxError

from orchestra.definitions.testcase_model import has_template
from orchestra.steps.templating import ENVIRONMENT
from orchestra.testdata.plans.dataplan_model import Binding, DataPlan, Request


class TemplateSyntax(Exception):
    """A template of the plan cannot be parsed."""


@dataclass(frozen=True, slots=True)
class References:
    roots: frozenset[str] = frozenset()  # top-level names: data, env, secrets, self, ...
    data: frozenset[str] = frozenset()  # binding names used as data.X or data['X']
    # root name → the attribute or key right below it (secrets.token → {"secrets": {"token"}})
    members: dict[str, frozenset[str]] = field(default_factory=dict)


SELF_NAME = "_cleanup_self"  # what ``self`` is renamed to: Jinja reserves ``self`` for the template itself


@lru_cache(maxsize=4096)
def renamed_self(text: str) -> str:
    """``text`` with the variable ``self`` renamed to SELF_NAME (``x.self`` attributes stay). A template
    that cannot be lexed is returned unchanged: parsing it reports the problem."""
    if "self" not in text or not has_template(text):
        return text
    try:
        tokens = list(ENVIRONMENT.lex(text))
    except TemplateSyntaxError:
        return text
    parts: list[str] = []
    previous = ""
    for _, kind, value in tokens:
        if kind == "name" and value == "self" and previous != ".":
            value = SELF_NAME
        if kind != "whitespace":
            previous = value
        parts.append(value)
    return "".join(parts)


def with_renamed_self(value: Any) -> Any:
    """Every string of a JSON-like value (keys too) through ``renamed_self``."""
    if isinstance(value, str):
        return renamed_self(value)
    if isinstance(value, dict):
        return {with_renamed_self(key): with_renamed_self(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_renamed_self(item) for item in value]
    return value


@lru_cache(maxsize=4096)
def references(text: str) -> References:
    """The names a template uses (``self`` included). Raises TemplateSyntax."""
    if not has_template(text):
        return References()
    try:
        tree = ENVIRONMENT.parse(renamed_self(text))
    except TemplateSyntaxError as error:
        raise TemplateSyntax(f"{(error.message or 'syntax error').rstrip('.')} in {text[:120]!r}") from None
    roots = frozenset(_original(name) for name in meta.find_undeclared_variables(tree))
    members: dict[str, set[str]] = {}
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        target = getattr(node, "node", None)
        if not isinstance(target, nodes.Name):
            continue
        if isinstance(node, nodes.Getattr):
            members.setdefault(_original(target.name), set()).add(node.attr)
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
        ):
            members.setdefault(_original(target.name), set()).add(node.arg.value)
    frozen = {name: frozenset(values) for name, values in members.items()}
    return References(roots, frozen.get("data", frozenset()), frozen)


def _original(name: str) -> str:
    return "self" if name == SELF_NAME else name


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a JSON-like value, dict keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def request_strings(request: Request) -> Iterator[str]:
    yield from strings_in([request.path, request.query, request.headers, request.body])


def binding_strings(binding: Binding, *, cleanup: bool = False) -> Iterator[str]:
    """The template strings a binding renders: of its call, lookup or value, or (``cleanup``) of its
    cleanup."""
    if cleanup:
        if binding.cleanup is not None:
            yield from request_strings(binding.cleanup)
        return
    request = binding.call or binding.lookup
    if request is not None:
        yield from request_strings(request)
    elif binding.kind == "value":
        yield from strings_in(binding.value)


def data_references(strings: Iterator[str]) -> set[str]:
    names: set[str] = set()
    for text in strings:
        names |= references(text).data
    return names


def default_header_references(plan: DataPlan) -> dict[str, set[str]]:
    """Header name → the bindings its default template uses."""
    return {name: data_references(iter([name, value])) for name, value in plan.defaults.headers.items()}
