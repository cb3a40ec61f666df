"""What one rendering may spend: operations, wall-clock time, and the size of every value it builds.

A template is untrusted code. The sandbox (steps/template_sandbox.py) charges every operation a template
performs — each call, filter, attribute or item look-up, operator, loop iteration and piece of output — to
the budget of the rendering in progress, and checks the size of every value it builds. Whatever a template
does, it therefore stops, with a clear reason, after at most ``MAX_OPERATIONS`` operations or
``TIME_LIMIT_S`` seconds, and holds no value larger than ``MAX_VALUE_SIZE``.

Renderings run in worker threads (templating.in_sandbox), never on the event loop (but for the few
look-ups within a small budget of steps/template_inline.py). Every ``CHECK_EVERY``
operations (well under a millisecond) the budget checks its clock and a request to stop, and every
``PAUSE_EVERY_S`` it gives up the interpreter lock for a moment, so the event loop that serves the API and
the other runs gets its turn at once rather than after the interpreter's 5 ms switch interval. The time
limit is the rendering thread's CPU time, so a busy machine does not stop an ordinary template; the
wall-clock hard stop is in_sandbox's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from jinja2.exceptions import SecurityError

MAX_OPERATIONS = 1_000_000  # operations of one rendering (a step's request, checks, set or cleanup)
TIME_LIMIT_S = 5.0  # CPU seconds of one rendering, whatever its operations cost
MAX_VALUE_SIZE = 4_194_304  # characters of a string, items of a list or mapping (counted deep)
MAX_BUILT_SIZE = 8 * MAX_VALUE_SIZE  # characters and items of all the values one rendering builds
MAX_INTEGER_BITS = 65_536  # the largest integer a template may compute (about 19,700 digits)
CHECK_EVERY = 512  # operations between two checks of the clock and of a request to stop
PAUSE_EVERY_S = 0.002  # the rendering gives up the interpreter lock at least this often


class BudgetExceeded(SecurityError):
    """The rendering spent its budget (operations or time) or was stopped."""


class ValueTooLarge(SecurityError):
    """An operation would build a value larger than MAX_VALUE_SIZE."""


class Budget:
    """The operations and time one rendering may still spend; ``stop()`` ends it at its next operation."""

    __slots__ = (
        "_countdown",
        "built",
        "deadline",
        "last_pause",
        "max_operations",
        "operations",
        "output",
        "stopped",
        "time_limit_s",
    )

    def __init__(self, max_operations: int = MAX_OPERATIONS, time_limit_s: float = TIME_LIMIT_S) -> None:
        self.max_operations = max_operations
        self.time_limit_s = time_limit_s
        self.deadline = time.thread_time() + time_limit_s
        self.operations = 0
        self.output = 0  # characters written so far, in every block, macro and the template itself
        self.built = 0  # characters and items of the strings and containers built so far
        self.stopped: str | None = None
        self._countdown = CHECK_EVERY
        self.last_pause = time.monotonic()
        self.last_pause = time.monotonic()

    def stop(self, reason: str) -> None:
        """Called from another thread (the run's time limit, a cancelled run): the rendering raises soon."""
        self.stopped = reason

    def spend(self, operations: int = 1) -> None:
        self.operations += operations
        if self.operations > self.max_operations:
            raise BudgetExceeded(f"the template used more than {self.max_operations} operations")
        self._countdown -= operations
        if self._countdown <= 0:
            self._countdown = CHECK_EVERY
            self._check_clock()

    def _check_clock(self) -> None:
        if self.stopped is not None:
            raise BudgetExceeded(self.stopped)
        if time.thread_time() > self.deadline:
            raise BudgetExceeded(f"the template ran longer than {self.time_limit_s:g} s")
        now = time.monotonic()
        if now - self.last_pause > PAUSE_EVERY_S:
            self.last_pause = now
            time.sleep(0)  # let a waiting thread (the event loop) take the interpreter lock now

    def build(self, size: int) -> None:
        """Count a new value: what a rendering holds at once is at most what it built in all."""
        self.built += size
        if self.built > MAX_BUILT_SIZE:
            raise ValueTooLarge(
                f"the template would build more than {MAX_BUILT_SIZE} characters and items in all"
            )

    def write(self, characters: int) -> None:
        self.output += characters
        if self.output > MAX_VALUE_SIZE:
            raise ValueTooLarge(f"the template would write more than {MAX_VALUE_SIZE} characters")


_CURRENT: ContextVar[Budget | None] = ContextVar("orchestra_template_budget", default=None)


def active() -> Budget | None:
    return _CURRENT.get()


def current() -> Budget:
    """The budget of the rendering in progress (code run outside ``spending`` gets a throw-away one)."""
    return _CURRENT.get() or Budget()


class spending:
    """Make ``budget`` the one every operation of this thread is charged to, until the block ends."""

    __slots__ = ("_budget", "_token")

    def __init__(self, budget: Budget) -> None:
        self._budget = budget

    def __enter__(self) -> Budget:
        self._token = _CURRENT.set(self._budget)
        return self._budget

    def __exit__(self, *_: object) -> None:
        _CURRENT.reset(self._token)


def spend(operations: int = 1) -> None:
    current().spend(operations)


_DEEP = frozenset({str, bytes, list, tuple, dict, set, frozenset})
_CHARGE_EVERY = 64  # size_of charges its walk in parts of at least this many operations


def size_of(value: Any, limit: int = MAX_VALUE_SIZE) -> int:
    """The size of a value, counted deep: characters of strings, items of containers, bytes of integers.

    Shared references count every time (a list of one long string repeated is as large as its text).
    Counting stops past ``limit``; the walk is charged to the budget as it goes (an eighth of an operation
    an item, a container's share before its items are looked at), so a budget that ends early ends the walk
    early. A container of plain numbers is measured in C (its item types), not item by item.
    """
    total, visited, pending = 0, 0, [value]
    while pending and total <= limit:
        item = pending.pop()
        visited += 1
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, dict | list | tuple | set | frozenset):
            total += len(item)
            visited += len(item) // 8
            if visited >= _CHARGE_EVERY:
                spend(visited)
                visited = 0
            items: Any = item
            if isinstance(item, dict):
                pending.extend(item.keys())
                items = item.values()
            kinds = set(map(type, items))
            if kinds & _DEEP or any(issubclass(kind, str) for kind in kinds):
                pending.extend(items)
            elif kinds == {int}:
                total += max(map(abs, items), default=0).bit_length() // 8 * len(item)
            elif not kinds <= {bool, float, type(None)}:
                pending.extend(items)
        elif isinstance(item, int):
            total += item.bit_length() // 8
        else:
            total += 1
    spend(visited)
    return total


def check_size(value: Any, what: str = "the result", *, new: bool = False) -> Any:
    """``value``, unless it is larger than MAX_VALUE_SIZE (or an integer larger than MAX_INTEGER_BITS).
    ``new``: the value was built by the template (not looked up), so it counts towards MAX_BUILT_SIZE:
    a string by its characters, a container by its items (what it holds is counted where it was built)."""
    if new and isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
        current().build(len(value))
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > MAX_INTEGER_BITS:
            raise ValueTooLarge(f"{what} would be an integer of more than {MAX_INTEGER_BITS} bits")
        return value
    if isinstance(value, str | bytes):
        spend()
        if len(value) > MAX_VALUE_SIZE:
            raise ValueTooLarge(f"{what} would be longer than {MAX_VALUE_SIZE} characters")
        return value
    if isinstance(value, list | tuple | dict | set | frozenset) and size_of(value) > MAX_VALUE_SIZE:
        raise ValueTooLarge(f"{what} would be larger than {MAX_VALUE_SIZE} characters and items")
    return value


def refuse_beyond(size: int, what: str) -> None:
    """Refuse, before it is built, a value whose size is known in advance."""
    if size > MAX_VALUE_SIZE:
        raise ValueTooLarge(f"{what} would build a value larger than {MAX_VALUE_SIZE} characters or items")


def counted(iterable: Any) -> Iterator[Any]:
    """Iterate, charging one operation per item (every ``for`` loop of a template goes through this)."""
    budget = current()
    for item in iterable:
        budget.spend()
        yield item
