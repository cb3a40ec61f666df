"""Renderings cheap enough for the event loop: templates that only look values up, with a small budget.

Handing a rendering to a template thread (templating.in_sandbox) costs more than most renderings: a step's
``{{ env.base_url }}/items`` and ``{{ next }}`` are a few look-ups. So ``templating.sandboxed`` first
renders on the event loop under ``attempt()``, where a template is accepted only when its syntax tree
holds nothing but text, constants, names and look-ups (``a.b``, ``a['b']``, ``a[0]``, ``a[key]``): no
call, filter, test, operator, slice, literal list, loop, condition or assignment, so nothing in it can
repeat or build a value. What it can still cost is bounded by the ``InlineBudget``: at most
``INLINE_OPERATIONS`` operations and ``INLINE_CHARACTERS`` characters written or built (a look-up of a
large value is written or walked in proportion to its size). A template of any other kind, or one that
goes beyond that budget, raises ``NeedsThread``, and the whole rendering is done again in a template
thread with the full budget: renderings only compute values, so doing one again changes nothing but its
cost.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from jinja2 import nodes

from orchestra.steps.template_budget import CHECK_EVERY, TIME_LIMIT_S, Budget, spending

INLINE_OPERATIONS = 256  # fewer than CHECK_EVERY: an inline rendering never reads a clock
INLINE_CHARACTERS = 64 * 1024  # characters and items written or built (what a look-up can copy or walk)
assert INLINE_OPERATIONS < CHECK_EVERY

# The syntax of a template that only looks values up (the Template root aside).
_LOOK_UPS = (nodes.Output, nodes.TemplateData, nodes.Const, nodes.Name, nodes.Getattr, nodes.Getitem)


class NeedsThread(BaseException):
    """This rendering must run in a template thread. A signal, not an error: a BaseException (like
    GeneratorExit), so that it passes untouched through what the rendering catches (a template's failure
    is caught as any ``Exception``)."""


def only_looks_up(tree: nodes.Template) -> bool:
    """Whether a parsed template only writes text and values it looks up."""
    return all(
        isinstance(node, _LOOK_UPS) and (not isinstance(node, nodes.Name) or node.ctx == "load")
        for node in tree.find_all(nodes.Node)
    )


class InlineBudget(Budget):
    """The budget of a rendering on the event loop: going beyond it hands the rendering to a thread."""

    __slots__ = ()

    def __init__(self) -> None:  # no clock: INLINE_OPERATIONS end it before the first clock check
        self.max_operations = INLINE_OPERATIONS
        self.time_limit_s = TIME_LIMIT_S
        self.deadline = math.inf
        self.operations = self.output = self.built = 0
        self.stopped = None
        self._countdown = CHECK_EVERY
        self.last_pause = 0.0

    def spend(self, operations: int = 1) -> None:
        self.operations += operations
        if self.operations > INLINE_OPERATIONS:
            raise NeedsThread

    def build(self, size: int) -> None:
        self.built += size
        if self.built > INLINE_CHARACTERS:
            raise NeedsThread

    def write(self, characters: int) -> None:
        self.output += characters
        if self.output > INLINE_CHARACTERS:
            raise NeedsThread


_ATTEMPTING: ContextVar[bool] = ContextVar("orchestra_template_inline", default=False)


def attempting() -> bool:
    """A rendering is being tried on the event loop: only look-up templates may be rendered."""
    return _ATTEMPTING.get()


@contextmanager
def attempt() -> Iterator[None]:
    """Render on the event loop, within an InlineBudget; raises NeedsThread when that cannot be done."""
    token = _ATTEMPTING.set(True)
    try:
        with spending(InlineBudget()):
            yield
    finally:
        _ATTEMPTING.reset(token)
