"""Refuse, before they run, the operations that could build a value much larger than their inputs.

Every value a template builds is checked after the fact (template_budget.check_size), which bounds
operations whose result is at most a small multiple of their inputs. The ones listed here can multiply:
padding to a width, repeating, replacing, joining with a separator, formatting with a width, filling a
batch. For each, the size of the result is known from the arguments, and a result larger than
MAX_VALUE_SIZE is refused without building it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from orchestra.steps.template_budget import (
    MAX_INTEGER_BITS,
    MAX_VALUE_SIZE,
    ValueTooLarge,
    refuse_beyond,
    size_of,
    spend,
)

MAX_EXPONENT = 1000
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +\-]*(\*|\d+)?(?:\.(\*|\d+))?")
_NUMBER = re.compile(r"\d+")


def shown_size(value: Any) -> int:
    """About how many characters ``str(value)`` has (exact for strings)."""
    if isinstance(value, str):
        return len(value)
    if value is None or isinstance(value, bool | float) or (isinstance(value, int) and value < 2**64):
        return 24
    return 4 * size_of(value) + 8


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _widths_in(spec: str) -> int:
    """The largest number in a format specification (a width or a precision)."""
    numbers = _NUMBER.findall(spec)
    if any(len(number) > 9 for number in numbers):
        return MAX_VALUE_SIZE + 1
    return max((int(number) for number in numbers), default=0)


def _large_int_argument(args: Sequence[Any], kwargs: Mapping[str, Any]) -> bool:
    return any(_int(value) > MAX_VALUE_SIZE for value in (*args, *kwargs.values()))


def check_percent_format(text: str, args: Any) -> None:
    """``text % args``: refuse widths or precisions (written or taken from ``*``) beyond the size limit."""
    values = args if isinstance(args, tuple) else (args,)
    for match in _PERCENT_SPEC.finditer(text):
        for part in match.groups():
            if part == "*" and _large_int_argument(values, {}):
                raise ValueTooLarge(f"'%' with a width of more than {MAX_VALUE_SIZE}")
            if part not in (None, "*"):
                refuse_beyond(_widths_in(part), "'%' formatting")


def check_brace_format(text: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    """``text.format(...)``: refuse widths beyond the size limit, also those given as ``{:{width}}``."""
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:
        return  # str.format raises the same error itself
    for _, _, spec, _ in fields:
        if not spec:
            continue
        if "{" in spec and _large_int_argument(args, kwargs):
            raise ValueTooLarge(f"format() with a width of more than {MAX_VALUE_SIZE}")
        refuse_beyond(_widths_in(spec), "format()")


def check_multiply(left: Any, right: Any) -> None:
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple | bytes) and isinstance(count, int):
            refuse_beyond(size_of(sequence) * count, "'*'")
    if (
        isinstance(left, int)
        and isinstance(right, int)
        and left.bit_length() + right.bit_length() > (MAX_INTEGER_BITS)
    ):
        raise ValueTooLarge(f"'*' would build an integer of more than {MAX_INTEGER_BITS} bits")


def check_power(left: Any, right: Any) -> None:
    if isinstance(right, int) and abs(right) > MAX_EXPONENT:
        raise ValueTooLarge(f"exponent {right} is larger than {MAX_EXPONENT}")
    if isinstance(left, int) and isinstance(right, int) and left.bit_length() * right > MAX_INTEGER_BITS:
        raise ValueTooLarge(f"'**' would build an integer of more than {MAX_INTEGER_BITS} bits")


def _replaced_size(text: str, old: Any, new: Any, count: Any = -1) -> int:
    if not isinstance(old, str) or not isinstance(new, str):
        return len(text)
    found = len(text) + 1 if old == "" else text.count(old)
    if _int(count, -1) >= 0:
        found = min(found, _int(count))
    return len(text) + found * max(len(new) - len(old), 0)


def _joined_size(separator: Any, items: Sequence[Any]) -> int:
    spend(len(items) // 8)
    return shown_size(separator) * max(len(items) - 1, 0) + sum(shown_size(item) for item in items)


def _translated_size(text: str, table: Any) -> int:
    if isinstance(table, Mapping):
        longest = max((shown_size(value) for value in table.values() if value is not None), default=1)
        return len(text) * max(longest, 1)
    return len(text)


# -- methods of str and bytes, called from a template ----------------------------------------------------

MethodCheck = Callable[[Any, Sequence[Any], Mapping[str, Any]], int]

METHOD_RESULT_SIZE: dict[str, MethodCheck] = {
    "center": lambda s, a, k: _int(a[0] if a else k.get("width")),
    "ljust": lambda s, a, k: _int(a[0] if a else k.get("width")),
    "rjust": lambda s, a, k: _int(a[0] if a else k.get("width")),
    "zfill": lambda s, a, k: _int(a[0] if a else k.get("width")),
    "expandtabs": lambda s, a, k: (
        len(s) + s.count("\t" if isinstance(s, str) else b"\t") * _int(a[0] if a else k.get("tabsize", 8), 8)
    ),
    "replace": lambda s, a, k: _replaced_size(s, *a[:3]) if isinstance(s, str) and len(a) >= 2 else len(s),
    "translate": lambda s, a, k: _translated_size(s, a[0]) if isinstance(s, str) and a else len(s),
}


def check_method_call(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Refuse a call of a str, bytes or int method that would build too large a value; the arguments
    to pass on (an iterable given to ``join`` is read once, here)."""
    owner = getattr(method, "__self__", None)
    name = getattr(method, "__name__", "")
    if isinstance(owner, str | bytes):
        if name == "join" and args:
            items = list(args[0])
            refuse_beyond(_joined_size(owner, items), "join()")
            return (items, *args[1:])
        check = METHOD_RESULT_SIZE.get(name)
        if check is not None:
            refuse_beyond(check(owner, args, kwargs), f"{name}()")
    elif isinstance(owner, int) and name == "to_bytes":
        refuse_beyond(_int(args[0] if args else kwargs.get("length"), 1), "to_bytes()")
    return args


# -- filters ---------------------------------------------------------------------------------------------


def _join_filter(value: Any, d: Any = "", *_: Any, **__: Any) -> int:
    return _joined_size(d, value)


def _indent_filter(value: Any, width: Any = 4, *_: Any, **__: Any) -> int:
    text = str(value)
    prefix = len(width) if isinstance(width, str) else _int(width)
    return len(text) + (text.count("\n") + 1) * prefix


def _wordwrap_filter(
    value: Any, width: Any = 79, b: Any = True, wrapstring: Any = None, *_: Any, **k: Any
) -> int:
    text = str(value)
    separator = wrapstring if wrapstring is not None else k.get("wrapstring") or "\n"
    return len(text) + (len(text) // max(_int(width, 1), 1) + 1) * shown_size(separator)


def _sum_filter(value: Any, *_: Any, **kwargs: Any) -> int:
    return sum(size_of(item) for item in value) + size_of(kwargs.get("start", 0))


def _batch_filter(value: Any, linecount: Any = 1, fill_with: Any = None, *_: Any, **__: Any) -> int:
    return _int(linecount) if fill_with is not None else 0


def _slice_filter(value: Any, slices: Any = 1, *_: Any, **__: Any) -> int:
    return _int(slices)


def _format_filter(value: Any, *args: Any, **kwargs: Any) -> int:
    if kwargs and not args:
        check_percent_format(str(value), kwargs)
    else:
        check_percent_format(str(value), args)
    return 0


# The size of a filter's result, from its value (materialised when it is an iterator) and arguments.
FILTER_RESULT_SIZE: dict[str, Callable[..., int]] = {
    "join": _join_filter,
    "center": lambda value, width=80, *_, **__: _int(width),
    "indent": _indent_filter,
    "wordwrap": _wordwrap_filter,
    "replace": lambda value, old="", new="", count=None, *_, **__: _replaced_size(
        str(value), old, new, -1 if count is None else count
    ),
    "sum": _sum_filter,
    "batch": _batch_filter,
    "slice": _slice_filter,
    "format": _format_filter,
}
MATERIALISED = frozenset({"join", "sum"})  # filters whose estimate reads the whole iterable first
