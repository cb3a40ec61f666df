"""The Jinja2 environment templates run in: immutable sandbox, and every operation charged to a budget.

Jinja's sandbox already routes calls, attribute and item look-ups and the intercepted operators through
the environment. Here every one of them is charged to the rendering's budget (template_budget.py), and the
value it returns is checked for size. Three things Jinja does not route through the environment are made
to: before code is generated, the template's syntax tree is rewritten so that every ``for`` loop iterates
through ``counted`` (one operation per item), every ``~`` concatenation through ``_concat`` and every
piece of output, literal text included, through ``_output`` (which counts what the rendering writes, in
blocks, macros and ``set`` blocks alike). Filters are wrapped one by one: charged, their result size
estimated before they run where it can exceed their input's (template_size_guards.py), and checked after.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper, wraps
from typing import Any

from jinja2 import nodes
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg, generate_lorem_ipsum
from jinja2.visitor import NodeTransformer

from orchestra.steps import template_budget as budget
from orchestra.steps import template_size_guards as guards
from orchestra.steps.secret_taint import tainted

_MAX_LIPSUM_PARAGRAPHS = 100


def _call_of(name: str, *arguments: nodes.Node, lineno: int) -> nodes.Call:
    function = nodes.EnvironmentAttribute(name, lineno=lineno)
    return nodes.Call(function, list(arguments), [], None, None, lineno=lineno)


class _Metering(NodeTransformer):
    """Route loops, concatenations and output through the environment's metering functions."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = _call_of("counted", node.iter, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _call_of("_concat", *node.nodes, lineno=node.lineno)

    def visit_Getitem(self, node: nodes.Getitem) -> nodes.Node:
        """``text[1:]`` is compiled to a plain subscript, outside the sandbox: make it a call."""
        self.generic_visit(node)
        if not isinstance(node.arg, nodes.Slice):
            return node
        bounds = [
            part or nodes.Const(None, lineno=node.lineno)
            for part in (node.arg.start, node.arg.stop, node.arg.step)
        ]
        return _call_of("_slice", node.node, *bounds, lineno=node.lineno)

    def visit_Output(self, node: nodes.Output) -> nodes.Node:
        self.generic_visit(node)
        node.nodes = [
            _call_of(
                "_output",
                nodes.Const(child.data, lineno=child.lineno)
                if isinstance(child, nodes.TemplateData)
                else child,
                lineno=child.lineno,
            )
            for child in node.nodes
        ]
        return node

    def visit_List(self, node: nodes.List) -> nodes.Node:
        self.generic_visit(node)
        return _call_of("_sized", node, lineno=node.lineno)

    def visit_Dict(self, node: nodes.Dict) -> nodes.Node:
        self.generic_visit(node)
        return _call_of("_sized", node, lineno=node.lineno)

    def visit_Tuple(self, node: nodes.Tuple) -> nodes.Node:
        self.generic_visit(node)
        return node if node.ctx != "load" else _call_of("_sized", node, lineno=node.lineno)


def _output(value: Any) -> Any:
    current = budget.current()
    current.spend()
    if isinstance(value, str):
        current.write(len(value))
    elif value is None or isinstance(value, int | float):
        current.write(len(str(value)))
    else:
        current.write(guards.shown_size(value))
    return value


def _slice(value: Any, start: Any, stop: Any, step: Any) -> Any:
    budget.spend()
    return budget.check_size(value[start:stop:step], "a slice", new=True)


def _sized(value: Any) -> Any:
    """A list, tuple or mapping written in the template (``[big, big, …]``)."""
    return budget.check_size(value, "a literal", new=True)


def _concat(*parts: Any) -> str:
    budget.spend()
    texts = [str(part) for part in parts]
    size = sum(len(text) for text in texts)
    budget.refuse_beyond(size, "'~'")
    budget.current().build(size)
    return "".join(texts)


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    if not 0 <= n <= _MAX_LIPSUM_PARAGRAPHS or max > 1000:
        raise budget.ValueTooLarge(
            f"lipsum() makes at most {_MAX_LIPSUM_PARAGRAPHS} paragraphs of 1000 words"
        )
    return str(generate_lorem_ipsum(n=n, html=html, min=min, max=max))


# Filters that return a value they were given (or one of its items) rather than build one.
_PASSING_ON = frozenset({"attr", "d", "default", "first", "last", "max", "min", "random"})


def _metered_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    estimate = guards.FILTER_RESULT_SIZE.get(name)
    builds = name not in _PASSING_ON
    leading = 0 if _PassArg.from_obj(function) is None else 1  # the context Jinja passes first, if any

    @wraps(function)
    def metered(*args: Any, **kwargs: Any) -> Any:
        value: Any = args[leading] if len(args) > leading else None
        budget.spend(1 + _pass_cost(value))
        if estimate is not None and len(args) > leading:
            if name in guards.MATERIALISED and not isinstance(value, list | tuple | str):
                value = list(value)
                args = (*args[:leading], value, *args[leading + 1 :])
            budget.refuse_beyond(estimate(*args[leading:], **kwargs), f"the filter '{name}'")
        return budget.check_size(function(*args, **kwargs), f"the filter '{name}'", new=builds)

    return metered


def _pass_cost(value: Any) -> int:
    """Operations charged for a filter's pass over its value (C code, much faster than template code)."""
    if isinstance(value, str | bytes):
        return len(value) // 1024
    if isinstance(value, list | tuple | dict | set | frozenset):
        return len(value) // 8
    return 0


CALL_COST = 4  # a call through the sandbox costs about four loop iterations
_METERING = (budget.counted, _concat, _output, _sized, _slice)


class MeteredEnvironment(ImmutableSandboxedEnvironment):
    """Immutable sandbox whose every operation is charged to the current budget."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["lipsum"] = _lipsum
        self.filters = {name: _metered_filter(name, function) for name, function in self.filters.items()}

    def add_filters(self, **filters: Callable[..., Any]) -> None:
        self.filters.update({name: _metered_filter(name, function) for name, function in filters.items()})

    # the functions the rewritten syntax tree calls (see _Metering)
    counted = staticmethod(budget.counted)
    _concat = staticmethod(_concat)
    _output = staticmethod(_output)
    _sized = staticmethod(_sized)
    _slice = staticmethod(_slice)

    def _generate(
        self, source: nodes.Template, name: str | None, filename: str | None, defer_init: bool = False
    ) -> str:
        metered = _Metering().visit(source)
        metered.set_environment(self)
        return super()._generate(metered, name, filename, defer_init)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``items.items`` means the key, not ``dict.items``: response data often has such keys."""
        budget.spend()
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """Charged; a slice or character of a secret is derived from it (secret_taint.py)."""
        budget.spend()
        return tainted(super().getitem(obj, argument), (obj,))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if any(__obj is own for own in _METERING):  # the rewritten tree's own calls, charged inside
            return __obj(*args)
        budget.spend(CALL_COST)
        if isinstance(__obj, LoopContext) and args:  # a recursive loop's next level: counted as well
            args = (budget.counted(args[0]), *args[1:])
        args = guards.check_method_call(__obj, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        builds = isinstance(getattr(__obj, "__self__", None), str | bytes)  # str methods make new strings
        what = f"calling {getattr(__obj, '__name__', 'a function')}()"
        checked = budget.check_size(result, what, new=builds)
        # what a method of a secret, or a call given one, returns is derived from it (secret_taint.py)
        return tainted(checked, (getattr(__obj, "__self__", None), *args, *kwargs.values()))

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        budget.spend()
        if operator == "*":
            guards.check_multiply(left, right)
        elif operator == "**":
            guards.check_power(left, right)
        elif operator == "%" and isinstance(left, str):
            guards.check_percent_format(left, right)
        result = super().call_binop(context, operator, left, right)
        return budget.check_size(result, f"'{operator}'", new=True)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format`` and ``format_map``, with their widths checked first."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text: str = value.__self__
        is_format_map = value.__name__ == "format_map"

        def checked(*args: Any, **kwargs: Any) -> str:
            if is_format_map and len(args) == 1 and isinstance(args[0], dict):
                guards.check_brace_format(text, (), args[0])
            else:
                guards.check_brace_format(text, args, kwargs)
            result: str = budget.check_size(wrapped(*args, **kwargs), "format()")
            return result

        return update_wrapper(checked, value)
