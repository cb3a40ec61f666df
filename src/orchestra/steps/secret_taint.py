"""Values a template derives from a secret, reported as they are made, so that they are masked too.

The masker finds a secret in the forms escapes and case make of it (kit/masking.py), but a template can
transform it in ways no decoding undoes: ``| replace``, ``| reverse``, ``| b64encode`` of a longer text,
a slice, a string method. While a run executes, ``tracking`` holds the run's secrets; every filter, method
call and subscript a template evaluates whose input holds a secret (or a value derived from one) makes its
string result *tainted*: it is reported to the run (which masks it from then on, in whatever it stores or
logs) and taints what is derived from it in turn. Concatenation and formatting need no tracking: their
result holds the secret as it is.

What a template derives without any of these (a comparison, a length, a condition) is not a secret's text
and is not reported, nor is a result shorter than the masker's minimum length (a secret's first letter).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from orchestra.kit.secret_forms import MIN_SECRET_LENGTH

Report = Callable[[str], None]


@dataclass(slots=True)
class _Taint:
    values: set[str]
    report: Report


_TAINT: ContextVar[_Taint | None] = ContextVar("orchestra_secret_taint", default=None)


@contextmanager
def tracking(secrets: Iterable[str], report: Report) -> Iterator[None]:
    """While in this block (and in the tasks it starts), values derived from ``secrets`` go to ``report``."""
    values = {str(secret) for secret in secrets if len(str(secret)) >= MIN_SECRET_LENGTH}
    if not values:
        yield
        return
    token = _TAINT.set(_Taint(values, report))
    try:
        yield
    finally:
        _TAINT.reset(token)


def _holds_taint(values: set[str], item: Any) -> bool:
    return isinstance(item, str) and any(value in item for value in values)


def tainted(result: Any, inputs: Iterable[Any]) -> Any:
    """``result``, reported first when it is made from an input that holds a tainted value: a string, or the
    strings of a list (``split``)."""
    taint = _TAINT.get()
    if taint is None:
        return result
    texts = [result] if isinstance(result, str) else result if isinstance(result, list | tuple) else []
    new = [
        str(text)
        for text in texts
        if isinstance(text, str) and len(text) >= MIN_SECRET_LENGTH and text not in taint.values
    ]
    if new and any(_holds_taint(taint.values, item) for item in inputs):
        for text in new:
            taint.values.add(text)
            taint.report(text)
    return result


class SecretText(str):
    """A secret's value in a template's scope: a slice of it (which Jinja takes without asking the
    environment) is derived from it too."""

    __slots__ = ()

    def __getitem__(self, key: Any) -> str:
        return tainted(str.__getitem__(self, key), (str(self),))  # type: ignore[no-any-return]


def tracked_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` (a Jinja filter) with its results checked for taint; Jinja's markers are kept."""

    @functools.wraps(function)
    def tracked(*args: Any, **kwargs: Any) -> Any:
        return tainted(function(*args, **kwargs), (*args, *kwargs.values()))

    return tracked
