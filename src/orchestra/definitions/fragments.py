"""Where ``include:`` finds fragment files, and how a fragment's ``{{ params.x }}`` get their values.

Includes are resolved when definitions are loaded (loader.py): from disk, relative to the including file,
or among the files sent together to ``POST /projects/{project}/apply/files``. What is stored and run is
the test case with the fragments' steps in place; the executor never sees an include.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

MAX_INCLUDE_DEPTH = 8  # fragments including fragments, this many levels at most
_PARAM = re.compile(r"\{\{-?\s*params\.([A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}")


class FragmentMissing(Exception):
    """The included file is not there (the message says where it was looked for)."""


class FragmentSource(Protocol):
    def name_of(self, file: str) -> str:
        """The name ``locate`` gives ``file`` (cycles are found by name)."""

    def locate(self, including: str, reference: str) -> str:
        """The name of the file ``reference`` means in ``including``; raises FragmentMissing."""

    def read(self, name: str) -> str:
        """The file's text (``locate`` found it)."""


class DiskFragments:
    """Fragments on disk, relative to the folder of the including file."""

    def __init__(self, read: Any) -> None:
        self._read = read  # the loader's file reader (size and encoding checks)

    def name_of(self, file: str) -> str:
        return str(Path(file).resolve())

    def locate(self, including: str, reference: str) -> str:
        path = Path(including).parent / reference
        if not path.is_file():
            raise FragmentMissing(f"included file {reference!r} not found (looked for {path})")
        return str(path.resolve())

    def read(self, name: str) -> str:
        text: str = self._read(Path(name))
        return text


class SentFragments:
    """Fragments among the files sent together, named by their relative paths (``common/login.yaml``)."""

    def __init__(self, files: Sequence[tuple[str, str]]) -> None:
        self._texts = {posixpath.normpath(name): text for name, text in files}

    def name_of(self, file: str) -> str:
        return posixpath.normpath(file)

    def locate(self, including: str, reference: str) -> str:
        name = posixpath.normpath(posixpath.join(posixpath.dirname(including), reference))
        if name not in self._texts:
            raise FragmentMissing(
                f"included file {reference!r} not found ({name!r} is not among the files sent)"
            )
        return name

    def read(self, name: str) -> str:
        return self._texts[name]


class NoFragments:
    """A single document (a test case sent as YAML text): it has no files beside it to include."""

    def name_of(self, file: str) -> str:
        return file

    def locate(self, including: str, reference: str) -> str:
        raise FragmentMissing(
            f"cannot include {reference!r} here: includes are resolved when files are loaded "
            "(orchestra apply, POST /projects/{project}/apply/files)"
        )

    def read(self, name: str) -> str:  # pragma: no cover - locate never finds one
        raise FragmentMissing(name)


def with_params(value: Any, params: Mapping[str, Any]) -> Any:
    """``value`` with every ``{{ params.x }}`` replaced: a string that is only that takes the value as it
    is (a number stays a number); inside a longer string the value is written in (JSON for non-text).
    Raises KeyError for a name that ``params`` lacks."""
    if isinstance(value, dict):
        return {key: with_params(item, params) for key, item in value.items()}
    if isinstance(value, list):
        return [with_params(item, params) for item in value]
    if not isinstance(value, str) or "params." not in value:
        return value
    whole = _PARAM.fullmatch(value.strip())
    if whole is not None:
        return params[whole.group(1)]
    return _PARAM.sub(lambda match: _written(params[match.group(1)]), value)


def _written(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def referenced_params(value: Any) -> set[str]:
    """The names of the ``{{ params.x }}`` in ``value``."""
    if isinstance(value, dict):
        return set().union(*(referenced_params(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(referenced_params(item) for item in value))
    return set(_PARAM.findall(value)) if isinstance(value, str) else set()
