"""Bounds on what a step may put into the ExecutionContext (committed after every step)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def size_of(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8", "replace"))
    return len(json.dumps(value, default=str))


def oversized(values: Mapping[str, Any], limit: int) -> list[str]:
    """Messages for each value larger than ``limit`` bytes."""
    return [
        f"{name}: value of {size_of(value)} bytes is larger than {limit} (ORCHESTRA_MAX_VARIABLE_BYTES)"
        for name, value in values.items()
        if size_of(value) > limit
    ]
