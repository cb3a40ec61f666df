"""Numbers within a schema's bounds: ``minimum``/``maximum``, exclusive bounds in both the OpenAPI 3.0
(boolean) and 2020-12 (number) forms, and ``multipleOf`` as jsonschema judges it."""

from __future__ import annotations

import math
import random
from decimal import Decimal

from orchestra.openapi.operations import JsonSchema

SMALL_COUNT = 20  # the largest integer generated where the schema sets no bound


class NoNumber(Exception):
    """No number satisfies the bounds; the message says which."""


def bounds(schema: JsonSchema, integer: bool) -> tuple[float, float]:
    """Inclusive bounds (exclusive ones moved inwards); without bounds positive numbers (most APIs take
    them for quantities and prices), and for an integer a small count: servers cap the limits, page sizes
    and counts their descriptions leave unbounded (``limit`` ≤ 200, ``max_runs`` ≤ 50)."""
    gap = 1 if integer else 0.01
    low: float | None = schema.get("minimum")
    high: float | None = schema.get("maximum")
    for key, sign in (("exclusiveMinimum", 1), ("exclusiveMaximum", -1)):
        flag = schema.get(key)
        bound = "minimum" if sign == 1 else "maximum"
        value: float | None = None
        if flag is True and isinstance(schema.get(bound), int | float):
            value = schema[bound] + sign * gap
        elif isinstance(flag, int | float) and not isinstance(flag, bool):
            value = flag + sign * gap
        if value is not None:
            if sign == 1:
                low = value if low is None else max(low, value)
            else:
                high = value if high is None else min(high, value)
    if low is None and high is None:
        low, high = 1, (SMALL_COUNT if integer else 1000)
    elif low is None:
        assert high is not None
        low = min(1, high) if high >= 1 else high - 1000
    elif high is None:
        high = max(low, 1) + (SMALL_COUNT if integer else 1000)
    assert low is not None
    assert high is not None
    if low > high:
        raise NoNumber(f"no number lies between {low} and {high}")
    return low, high


def _is_multiple(value: float, step: float) -> bool:
    """The test jsonschema applies (float division): a value passes validation exactly when it passes here."""
    if isinstance(step, float):
        quotient = value / step
        return int(quotient) == quotient
    return float(value) % step == 0


def multiple_in(rng: random.Random, low: float, high: float, step: float, integer: bool) -> int | float:
    first, last = math.ceil(low / step), math.floor(high / step)
    if first > last:
        raise NoNumber(f"no multiple of {step} lies between {low} and {high}")
    start = rng.randint(first, last)
    for k in [start, *range(first, min(last, first + 200) + 1)]:
        value: int | float = k * step
        if integer:
            if float(value).is_integer():
                return int(value)
            continue
        value = float(Decimal(str(step)) * k)
        if _is_multiple(value, step):
            return value
    raise NoNumber(f"cannot find a multiple of {step} between {low} and {high}")
