"""Sandboxed Jinja2 rendering of the values in a test definition (URLs, headers, bodies, expectations).

Templates are written by test authors and rendered by a shared executor, so they run in Jinja's immutable
sandbox with strict undefined names, every operation charged to a budget and every value they build
bounded in size (steps/template_sandbox.py, steps/template_budget.py). The executor renders through
``sandboxed``: in a worker thread (``in_sandbox``), with a hard stop, so a template can cost its own run
time but never the responsiveness of the process — except a rendering whose templates only look values up
(``{{ next }}``, ``{{ env.base_url }}/items/{{ item['id'] }}``), which cannot take long and is done on the
event loop, without the hand-off (steps/template_inline.py). Rendering is on every step's hot path:
strings without markup are returned untouched, compiled templates are cached per source string, and the
templates of one call share the dictionary their contexts look names up in (``_Scope``): Jinja's
``Template.render`` copies the scope and the environment's globals into a new one for every template.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import json
import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache
from typing import Any, ParamSpec, TypeVar

from jinja2 import StrictUndefined, Template, nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.parser import Parser
from jinja2.runtime import Context, Undefined, new_context

from orchestra.definitions.testcase_model import has_template
from orchestra.steps import template_budget, template_functions, template_inline
from orchestra.steps.secret_taint import SecretText, tracked_filter
from orchestra.steps.template_budget import Budget, BudgetExceeded
from orchestra.steps.template_sandbox import MeteredEnvironment

_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{-?(.*?)-?\}\}\s*$", re.DOTALL)
# Renderings run in these threads; two, so that one expensive template does not hold up every other run,
# and not more, so that the event loop shares the interpreter lock with few busy threads.
TEMPLATE_THREADS = 2
HARD_STOP_S = 15.0  # wall-clock seconds a rendering is awaited (its CPU limit is 5 s) before it is given up
_WORKERS = ThreadPoolExecutor(max_workers=TEMPLATE_THREADS, thread_name_prefix="orchestra-template")
_P = ParamSpec("_P")
_T = TypeVar("_T")


class TemplateError(Exception):
    """A template could not be rendered; the message names the template and the problem."""


class _Undefined(StrictUndefined):
    """Strict undefined whose message lists the keys that do exist, which is usually the fix."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        owner = self._undefined_obj
        if self._undefined_hint is None and isinstance(owner, dict) and isinstance(self._undefined_name, str):
            keys = ", ".join(sorted(str(key) for key in owner)[:20]) or "none"
            return f"{self._undefined_name!r} is undefined (available keys: {keys})"
        return super()._undefined_message


def _finalize(value: Any) -> Any:
    """Values inside a larger string are written the JSON way: true, null, {"a": 1}."""
    if value is None or isinstance(value, bool | dict | list):
        return json.dumps(value, default=str)
    return value


def _b64encode(text: str) -> str:
    return base64.b64encode(str(text).encode()).decode()


def _b64decode(text: str) -> str:
    return base64.b64decode(str(text).encode()).decode()


ENVIRONMENT = MeteredEnvironment(
    undefined=_Undefined, autoescape=False, finalize=_finalize, keep_trailing_newline=True
)
ENVIRONMENT.globals.update(template_functions.FUNCTIONS)
ENVIRONMENT.add_filters(b64encode=_b64encode, b64decode=_b64decode)
# Every filter's result is checked for values derived from secrets (before any template is compiled: a
# compiled template holds the filter functions it uses).
ENVIRONMENT.filters.update({name: tracked_filter(function) for name, function in ENVIRONMENT.filters.items()})


@lru_cache(maxsize=4096)
def _compiled_template(source: str) -> Template:
    return ENVIRONMENT.from_string(source)


@lru_cache(maxsize=4096)
def _compiled_expression(source: str) -> Template:
    """A template that assigns the expression's value to ``result``, as Jinja's ``compile_expression``
    makes it (its TemplateExpression renders it in a context of its own making)."""
    parser = Parser(ENVIRONMENT, source, state="variable")
    expression = parser.parse_expression()
    if not parser.stream.eos:
        raise TemplateSyntaxError("chunk after expression", parser.stream.current.lineno, None, None)
    expression.set_environment(ENVIRONMENT)
    body = [nodes.Assign(nodes.Name("result", "store"), expression, lineno=1)]
    return ENVIRONMENT.from_string(nodes.Template(body, lineno=1))


class _Scope:
    """A scope, and the dictionary the contexts of its templates look names up in: the environment's
    globals with the scope over them (what Jinja's ``Template.new_context`` makes for each template), made
    at the first template and shared by the others of one rendering call. A context keeps its own
    assignments apart (``Context.vars``) and the sandbox is immutable, so no template changes it."""

    __slots__ = ("_parent", "scope")

    def __init__(self, scope: Mapping[str, Any]) -> None:
        self.scope = scope
        self._parent: dict[str, Any] | None = None

    def _names(self) -> dict[str, Any]:
        if self._parent is None:
            self._parent = {**ENVIRONMENT.globals, **self.scope}
        return self._parent

    def context(self, template: Template) -> Context:
        # shared: the parent as it is. Without the template's globals (they are in the parent): those are
        # only read when a template imports another, which a template without a loader cannot.
        return new_context(ENVIRONMENT, template.name, template.blocks, self._names(), True, None)

    def look_up(self, name: str) -> Any:
        """What a template's context resolves ``name`` to (a fresh context has no assignments of its own
        yet: its parent's value), or ``_MISSING``."""
        return self._names().get(name, _MISSING)


_MISSING: Any = object()


@lru_cache(maxsize=4096)
def _looked_up_name(expression: str) -> str | None:
    """The variable an expression is made of and nothing else (``next`` in ``{{ next }}``), as Jinja parses
    it (``true``, ``none`` and the like are constants, not names); None for any other expression and for
    the names Jinja may resolve otherwise."""
    try:
        parser = Parser(ENVIRONMENT, expression, state="variable")
        node = parser.parse_expression()
    except TemplateSyntaxError:
        return None
    if not parser.stream.eos or not isinstance(node, nodes.Name) or node.ctx != "load":
        return None
    return None if node.name in _SPECIAL_NAMES else node.name


# Names Jinja's compiled code gives a meaning of its own in some places (``self``: the template's reference).
_SPECIAL_NAMES = frozenset({"self", "super", "loop", "caller", "varargs", "kwargs"})


@lru_cache(maxsize=4096)
def _only_looks_up(source: str) -> bool:
    try:
        return template_inline.only_looks_up(ENVIRONMENT.parse(source))
    except TemplateSyntaxError:
        return False  # reported by the rendering in a template thread, as ever


def _quoted(source: str) -> str:
    return '"' + (source if len(source) <= 120 else source[:117] + "...") + '"'


def _single_expression(text: str) -> str | None:
    match = _SINGLE_EXPRESSION.match(text)
    if match is None:
        return None
    inner = match.group(1)
    return None if "{{" in inner or "}}" in inner or "{%" in inner else inner


def _ensure_defined(value: Any) -> Any:
    """Raise for an undefined value, also one nested in a list or mapping (str() makes it raise). The walk
    is charged to the budget like size_of's: an eighth of an operation an item."""
    if isinstance(value, Undefined):
        str(value)
    elif isinstance(value, list | tuple):
        template_budget.spend(len(value) // 8)
        for item in value:
            _ensure_defined(item)
    elif isinstance(value, dict):
        template_budget.spend(len(value) // 8)
        for item in value.values():
            _ensure_defined(item)
    return value


def _native(value: Any) -> Any:
    """JSON-like values stay as they are; Markup (from tojson) becomes str, a tuple a list, others str."""
    if value is None or type(value) in (str, bool, int, float, list, dict):
        return value
    return list(value) if isinstance(value, tuple) else str(value)


def _budget_of_this_call() -> AbstractContextManager[Any]:
    """The budget of the rendering in progress (``in_sandbox``), else one for this call alone."""
    return nullcontext() if template_budget.active() is not None else template_budget.spending(Budget())


def _render_string(text: str, scope: _Scope, *, native: bool) -> Any:
    if not has_template(text):
        return text
    if template_inline.attempting() and not _only_looks_up(text):
        raise template_inline.NeedsThread
    try:
        with _budget_of_this_call():
            expression = _single_expression(text) if native else None
            if expression is not None:
                # The most common template of all, ``{{ name }}``: its value without a Jinja context and
                # render call (what they would do: look the name up in the shared names, charge nothing).
                name = _looked_up_name(expression)
                value = _MISSING if name is None else scope.look_up(name)
                if value is not _MISSING:
                    return _native(_ensure_defined(value))
                template = _compiled_expression(expression)
                context = scope.context(template)
                for _ in template.root_render_func(context):
                    pass
                return _native(_ensure_defined(context.vars["result"]))
            template = _compiled_template(text)
            return ENVIRONMENT.concat(template.root_render_func(scope.context(template)))
    except TemplateSyntaxError as error:
        raise TemplateError(f"syntax error in {_quoted(text)}: {(error.message or '').rstrip('.')}") from None
    except BudgetExceeded as error:
        raise TemplateError(f"template stopped: {error} in {_quoted(text)}") from None
    except SecurityError as error:
        reason = str(error).rstrip(".")
        raise TemplateError(f"unsafe operation blocked: {reason} in {_quoted(text)}") from None
    except UndefinedError as error:
        raise TemplateError(f"{error.message} in {_quoted(text)}") from None
    except Exception as error:  # a template is user code: any failure is the template's
        raise TemplateError(f"{type(error).__name__}: {error} in {_quoted(text)}") from None


def render_text(text: str, scope: Mapping[str, Any]) -> str:
    """Render a template to a string (never a native value)."""
    result: str = _render_string(text, _Scope(scope), native=False)
    return result


def render_value(value: Any, scope: Mapping[str, Any]) -> Any:
    """Render every string inside ``value`` (dict keys too).

    A string that is exactly one ``{{ expression }}`` keeps the expression's type (a number stays a
    number); other strings render to strings. Containers without templates are returned as they are,
    not copied.
    """
    return _render_value(value, _Scope(scope))


def _render_value(value: Any, scope: _Scope) -> Any:
    if isinstance(value, str):
        return _render_string(value, scope, native=True)
    if isinstance(value, dict | list) and isinstance(template_budget.active(), template_inline.InlineBudget):
        template_budget.spend(len(value) // 8 + 1)  # on the event loop, the walk itself is charged too
    if isinstance(value, dict):
        rendered = {
            _render_string(key, scope, native=False) if isinstance(key, str) else key: _render_value(
                item, scope
            )
            for key, item in value.items()
        }
        unchanged = all(
            new_key is old_key and new_item is old_item
            for (new_key, new_item), (old_key, old_item) in zip(rendered.items(), value.items(), strict=False)
        )
        return value if unchanged and len(rendered) == len(value) else rendered
    if isinstance(value, list):
        items = [_render_value(item, scope) for item in value]
        return value if all(new is old for new, old in zip(items, value, strict=True)) else items
    return value


def on_the_loop(work: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """``work`` done now, on the event loop, when its templates only look values up within the small
    budget of ``sandboxed``; raises ``template_inline.NeedsThread`` (a BaseException) when it cannot be."""
    with template_inline.attempt():
        return work(*args, **kwargs)


async def sandboxed(work: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """``in_sandbox``, except that work whose templates only look values up, within a small budget, is done
    on the event loop, without the hand-off to a thread (steps/template_inline.py); other work is abandoned
    at its first other template and done again in a template thread. ``work`` must only render: compute
    values from its templates, nothing that lasts long or has effects of its own."""
    try:
        return on_the_loop(work, *args, **kwargs)
    except template_inline.NeedsThread:
        return await in_sandbox(work, *args, **kwargs)


async def in_sandbox(work: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run ``work`` (which renders templates) in a template thread, every rendering in it sharing one
    budget. The event loop only waits. When the awaiting task is cancelled (the run's time limit, a
    cancelled run), the rendering is stopped at its next operation; one that has not finished after
    ``HARD_STOP_S`` is stopped the same way and given up with a TemplateError."""
    budget = Budget()

    def bounded() -> _T:
        with template_budget.spending(budget):
            return work(*args, **kwargs)

    # in the caller's context: what secret_taint.py tracks there is tracked in the thread too
    context = contextvars.copy_context()
    future = asyncio.get_running_loop().run_in_executor(_WORKERS, context.run, bounded)
    try:
        async with asyncio.timeout(HARD_STOP_S):
            return await future
    except TimeoutError:
        budget.stop("the template was stopped")
        raise TemplateError(f"template stopped: it did not finish within {HARD_STOP_S:g} s") from None
    except asyncio.CancelledError:
        budget.stop("the template was stopped: its run was stopped")
        raise


def build_scope(
    *,
    base_url: str,
    environment: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
    variables: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    run: Mapping[str, Any] | None = None,
    suite: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The documented scope layout: variables at top level and under ``vars``, plus the reserved names.
    ``suite`` (the suite setup's variables) is in scope only for the runs of a suite run with a setup or
    teardown, so a variable named ``suite`` keeps its meaning everywhere else."""
    variables = dict(variables or {})
    scope = {
        **variables,
        "vars": variables,
        "env": {**(environment or {}), "base_url": base_url},
        "secrets": {
            name: SecretText(value) if isinstance(value, str) else value
            for name, value in (secrets or {}).items()
        },
        "data": dict(data or {}),
        "run": dict(run or {}),
    }
    if suite is not None:
        scope["suite"] = dict(suite)
    return scope
