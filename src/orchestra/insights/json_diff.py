"""The differences between two JSON values, as a list of paths (JSONPath-like, ``$.items[0].sku``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Change = Literal["added", "removed", "changed"]
MAX_DIFFERENCES = 200


@dataclass(frozen=True, slots=True)
class Difference:
    path: str
    change: Change
    left: Any = None
    right: Any = None


def _key(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]"


def json_diff(left: Any, right: Any, path: str = "$", limit: int = MAX_DIFFERENCES) -> list[Difference]:
    """What changed from ``left`` to ``right``: keys and items added or removed, and values that differ
    (a value of another type is changed as a whole). At most ``limit`` differences, in document order."""
    found: list[Difference] = []
    _walk(left, right, path, found, limit)
    return found


def _walk(left: Any, right: Any, path: str, found: list[Difference], limit: int) -> None:
    if len(found) >= limit:
        return
    if isinstance(left, dict) and isinstance(right, dict):
        for key in list(left) + [key for key in right if key not in left]:
            where = _key(path, str(key))
            if key not in right:
                found.append(Difference(where, "removed", left=left[key]))
            elif key not in left:
                found.append(Difference(where, "added", right=right[key]))
            else:
                _walk(left[key], right[key], where, found, limit)
            if len(found) >= limit:
                return
    elif isinstance(left, list) and isinstance(right, list):
        for index in range(max(len(left), len(right))):
            where = f"{path}[{index}]"
            if index >= len(right):
                found.append(Difference(where, "removed", left=left[index]))
            elif index >= len(left):
                found.append(Difference(where, "added", right=right[index]))
            else:
                _walk(left[index], right[index], where, found, limit)
            if len(found) >= limit:
                return
    elif type(left) is not type(right) or left != right:
        found.append(Difference(path, "changed", left=left, right=right))
