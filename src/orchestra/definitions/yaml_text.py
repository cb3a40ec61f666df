"""Definitions as YAML text in memory: files sent through the API (read as ``orchestra apply`` reads files
from disk, with line and column in every problem) and files written for download, which read back to the
very definition they were written from."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from orchestra.definitions.fragments import SentFragments
from orchestra.definitions.loader import (
    CoreSchemaResolver,
    DefinitionError,
    DefinitionIssue,
    LoadedDefinitions,
    is_fragment,
    parse_text,
    validate_suite_data,
    validate_test_case_data,
)
from orchestra.definitions.testcase_model import SuiteDefinition, TestCaseDefinition

LINE_WIDTH = 100
_OTHER_BREAKS = ("\r", "\x85", "\u2028", "\u2029")


class _Writer(yaml.SafeDumper):
    """PyYAML's safe writer, deciding which text needs quotes by the loader's YAML 1.2 core schema: '0o17',
    '1e3' or '.5' read as numbers there (not in PyYAML's YAML 1.1), so they are quoted."""

    yaml_implicit_resolvers = CoreSchemaResolver.yaml_implicit_resolvers

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        """Lists inside a mapping indented, as the examples and most people write them."""
        super().increase_indent(flow, False)


def _text(writer: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Text with line breaks as a literal block, long text as a folded one (as people write a body or a
    description); PyYAML quotes it instead where a block could not hold it exactly."""
    if any(mark in value for mark in _OTHER_BREAKS):
        style: str | None = '"'  # escaped: PyYAML reads these as line breaks wherever they stand
    else:
        style = "|" if "\n" in value else ">" if len(value) > LINE_WIDTH - 20 else None
    return writer.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Writer.add_representer(str, _text)


def dump(data: dict[str, Any]) -> str:
    """``data`` as a YAML file; keys in the order given, no aliases, Unicode as it is."""
    return yaml.dump(
        data, Dumper=_Writer, sort_keys=False, allow_unicode=True, width=LINE_WIDTH, default_flow_style=False
    )


def _ordered(definition: TestCaseDefinition | SuiteDefinition) -> dict[str, Any]:
    return definition.model_dump(mode="json", by_alias=True, exclude_unset=True)


def yaml_of_test_case(stored: dict[str, Any]) -> str:
    """A stored test case as its YAML file, keys in the order of the language (name, description, …,
    steps); a version an older language accepted but this one does not is written as stored."""
    try:
        return dump(_ordered(validate_test_case_data(stored)))
    except DefinitionError:
        return dump(stored)


def yaml_of_suite(stored: dict[str, Any]) -> str:
    """A stored suite as its YAML file (as ``yaml_of_test_case``)."""
    try:
        return dump(_ordered(validate_suite_data(stored)))
    except DefinitionError:
        return dump(stored)


def download_name(name: str) -> str:
    """A file name for a definition's name: safe in a Content-Disposition header and on any disk."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name.removesuffix(".yaml")).strip("-.") or "definition"
    return f"{stem[:120]}.yaml"


def load_texts(files: Sequence[tuple[str, str]]) -> LoadedDefinitions:
    """Test cases and suites from ``(file name, YAML text)`` pairs, in the order given; every problem of
    every file is raised at once. A file that is neither a test case nor a suite is a problem here (it was
    chosen, not found in a folder), unless it is a fragment, which the others include by relative path.
    Which stored test cases a suite may list is the caller's to check."""
    loaded = LoadedDefinitions()
    issues: list[DefinitionIssue] = []
    fragments = SentFragments(files)
    for name, text in files:
        path = Path(name)
        try:
            definition, root = parse_text(text, name, fragments)
        except DefinitionError as error:
            issues += error.issues
            continue
        if isinstance(definition, TestCaseDefinition):
            loaded.test_cases.append((path, definition))
        elif isinstance(definition, SuiteDefinition):
            loaded.suites.append((path, definition))
        elif not is_fragment(root):
            message = "not a test definition: a test case needs 'name' and 'steps', a suite 'suite', 'tests'"
            issues.append(DefinitionIssue(name, 1, 1, "", message))
        if root is not None:
            loaded.roots[path] = root
    if issues:
        raise DefinitionError(issues)
    return loaded


_PART = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\]")


def parse_path(path: str) -> list[str | int]:
    """The keys and indexes of a problem's path (``steps[0].expect.json['$.id']``), as the loader writes
    it; where the text stops making sense, the parts before it (the nearest place still known)."""
    parts: list[str | int] = []
    position = 0
    while position < len(path):
        match = _PART.match(path, position)
        if match is None or match.end() == position:
            break
        key, index, quoted = match.groups()
        if key is not None:
            parts.append(key)
        else:
            parts.append(int(index) if index is not None else ast.literal_eval(quoted))
        position = match.end()
    return parts
