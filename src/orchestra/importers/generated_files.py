"""Generated test files that know whether they were edited since: a comment line records the sha256 of the
text below it. A re-import replaces a file whose text still has that hash and leaves an edited one alone."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

MARKER = "# orchestra-generated sha256:"
_MARKER_LINE = re.compile(r"^# orchestra-generated sha256:([0-9a-f]{64})[ \t]*\r?\n", re.MULTILINE)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def with_marker(header: list[str], body: str) -> str:
    """The file: ``header`` as comment lines, the marker with the hash of ``body``, then ``body``."""
    comments = "".join(f"# {' '.join(line.split())}\n" for line in header)
    return f"{comments}{MARKER}{_digest(body)}\n{body}"


def is_generated(text: str) -> bool:
    """Whether the text carries a marker (edited or not)."""
    return _MARKER_LINE.search(text) is not None


def is_unedited(text: str) -> bool:
    """Whether the text below the marker is exactly what was generated (the lines above it are comments
    and may change freely)."""
    found = _MARKER_LINE.search(text)
    return found is not None and _digest(text[found.end() :]) == found.group(1)


@dataclass
class Updates:
    """What a re-import does to each file: by name."""

    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # edited since generated (or never generated): left alone
    removed: list[str] = field(default_factory=list)  # generated, untouched, no longer generated

    def action(self, name: str) -> str:
        for action in ("new", "updated", "unchanged", "kept"):
            if name in getattr(self, action):
                return action
        raise KeyError(name)

    @property
    def to_write(self) -> list[str]:
        return [*self.new, *self.updated]


def updates(
    generated: Mapping[str, str], existing: Mapping[str, str | None], *, overwrite: bool = False
) -> Updates:
    """What to do with each generated file (name → text) given the files already there (name → text, None
    when unreadable): a file not there is new; one still as generated is replaced when it changed; one
    edited since (or never generated) is kept unless ``overwrite``; a generated, untouched file that is
    no longer generated (its operation left the description) is removed."""
    plan = Updates()
    for name, text in generated.items():
        if name not in existing:
            plan.new.append(name)
            continue
        current = existing[name]
        if current == text:
            plan.unchanged.append(name)
        elif overwrite or (current is not None and is_unedited(current)):
            plan.updated.append(name)
        else:
            plan.kept.append(name)
    for name, current in sorted(existing.items()):
        if name not in generated and current is not None and is_unedited(current):
            plan.removed.append(name)
    return plan
