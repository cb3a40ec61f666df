"""Load test definitions from YAML files, reporting every problem as ``file:line:column: path: message``.

YAML is composed into a node tree (safe loader, YAML 1.2 core scalars, no aliases) so that pydantic's
error locations can be mapped back to the line and column the author has to fix.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from yaml._yaml import CParser
from yaml.composer import Composer
from yaml.error import Mark, MarkedYAMLError
from yaml.events import AliasEvent, StreamEndEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import Reader, ReaderError
from yaml.resolver import BaseResolver

from orchestra.definitions.data_rows import DataFileError, load_rows
from orchestra.definitions.fragments import (
    MAX_INCLUDE_DEPTH,
    DiskFragments,
    FragmentMissing,
    FragmentSource,
    NoFragments,
    referenced_params,
    with_params,
)
from orchestra.definitions.testcase_model import (
    CaptureSpec,
    FragmentDefinition,
    IncludeStep,
    JsonPathCheck,
    LengthComparison,
    Matcher,
    ParametersFile,
    RequestStep,
    SetStep,
    SleepStep,
    SuiteDefinition,
    TestCaseDefinition,
)

MAX_FILE_BYTES = 1024 * 1024
MAX_REPORTED_ISSUES = 50  # problems listed in one error; the rest are counted in a last line
MAX_DEPTH = 100
REQUEST_FILE = "<request>"
Definition = TestCaseDefinition | SuiteDefinition
_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class DefinitionIssue:
    """One problem in a definition; line and column are 1-based (0 when there is no position)."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}:{self.column}: {where}{self.message}"


class DefinitionError(Exception):
    """Every problem found, so authors can fix them all in one go: the first ``MAX_REPORTED_ISSUES``,
    then one line that counts the others (a definition with 100,000 unknown keys gets a short answer)."""

    def __init__(self, issues: Sequence[DefinitionIssue], *, unlisted: int = 0) -> None:
        listed = list(issues[:MAX_REPORTED_ISSUES])
        unlisted += len(issues) - len(listed)
        if unlisted:
            file = listed[-1].file if listed else REQUEST_FILE
            plural = "s" if unlisted > 1 else ""
            message = f"and {unlisted} more problem{plural}, not listed (at most {MAX_REPORTED_ISSUES} are)"
            listed.append(DefinitionIssue(file, 0, 0, "", message))
        self.issues = listed
        self.unlisted = unlisted
        super().__init__("\n".join(str(issue) for issue in self.issues))


@dataclass
class LoadedDefinitions:
    test_cases: list[tuple[Path, TestCaseDefinition]] = field(default_factory=list)
    suites: list[tuple[Path, SuiteDefinition]] = field(default_factory=list)
    # Each file's YAML tree, so that later checks can name the line and column of a value.
    roots: dict[Path, Node] = field(default_factory=dict, repr=False, compare=False)

    def issue_at(self, path: Path, loc: Sequence[str | int], message: str) -> DefinitionIssue:
        """An issue at the value ``loc`` of the file ``path`` (at 0:0 when its tree is not known)."""
        root = self.roots.get(path)
        if root is None:
            return DefinitionIssue(str(path), 0, 0, _format_path(loc), message)
        return _issue_at(path, root, loc, message)


class _IssueAt(Exception):
    def __init__(self, mark: Mark, message: str) -> None:
        super().__init__(message)
        self.mark, self.message = mark, message


class CoreSchemaResolver(BaseResolver):
    """YAML 1.2 core schema: only true/false are booleans, no sexagesimals, dates stay strings. The writer of
    YAML files (yaml_text.py) quotes by the same rules, so what it writes reads back the same."""

    yaml_implicit_resolvers = {}  # noqa: RUF012 - PyYAML's own registry, filled right below


for _tag, _pattern, _first in (
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+0123456789."),
    ),
):
    CoreSchemaResolver.add_implicit_resolver(  # type: ignore[no-untyped-call]
        f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), _first
    )


class _NodeComposer(CParser, Composer, CoreSchemaResolver):
    """PyYAML's composer without aliases (no alias bombs) and with a nesting limit (no stack overflow),
    on libyaml's parser (the pure-Python one reads about 6,000 lines a second)."""

    def __init__(self, text: str) -> None:
        Reader(text)  # rejects control characters with their position, as the C parser does not
        CParser.__init__(self, text)
        Composer.__init__(self)
        CoreSchemaResolver.__init__(self)
        self.depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        events: Any = self  # PyYAML's parser methods are untyped
        if events.check_event(AliasEvent):
            raise _IssueAt(events.peek_event().start_mark, "YAML aliases are not allowed in test definitions")
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _IssueAt(events.peek_event().start_mark, f"nesting is deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def compose_single(self) -> Node | None:
        events: Any = self
        events.get_event()  # stream start
        if events.check_event(StreamEndEvent):
            return None
        node = self.compose_document()
        if not events.check_event(StreamEndEvent):
            raise _IssueAt(events.peek_event().start_mark, "only one YAML document per file is allowed")
        return node


def _node_issue(file: str, node: Node, path: str, message: str) -> DefinitionIssue:
    return DefinitionIssue(file, node.start_mark.line + 1, node.start_mark.column + 1, path, message)


def _yaml_issue(error: Exception, text: str, file: str) -> DefinitionIssue:
    if isinstance(error, _IssueAt):
        return DefinitionIssue(file, error.mark.line + 1, error.mark.column + 1, "", error.message)
    if isinstance(error, ReaderError):
        before = text[: error.position]
        line, column = before.count("\n") + 1, error.position - (before.rfind("\n") + 1) + 1
        message = f"character U+{error.character:04X} is not allowed in YAML"
        return DefinitionIssue(file, line, column, "", message)
    assert isinstance(error, MarkedYAMLError)
    mark = error.problem_mark or error.context_mark
    message = error.problem or error.context or "invalid YAML"
    if message == "found character that cannot start any token" and mark is not None:
        lines = text.splitlines()
        line_text = lines[mark.line] if mark.line < len(lines) else ""
        if mark.column < len(line_text):  # libyaml does not name the character (a tab, most often)
            return DefinitionIssue(
                file,
                mark.line + 1,
                mark.column + 1,
                "",
                f"found character {line_text[mark.column]!r} that cannot start any token",
            )
    if error.context and error.problem and error.context_mark is not None:
        context_at = f"line {error.context_mark.line + 1}, column {error.context_mark.column + 1}"
        message = f"{message} ({error.context} at {context_at})"
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return DefinitionIssue(file, line, column, "", message)


def _compose(text: str, file: str) -> Node | None:
    try:
        composer = _NodeComposer(text)  # the reader rejects control characters right away
        try:
            return composer.compose_single()
        finally:
            composer.dispose()
    except (_IssueAt, ReaderError, MarkedYAMLError) as error:
        raise DefinitionError([_yaml_issue(error, text, file)]) from None


def _short_tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def _construct(node: Node, file: str, issues: list[DefinitionIssue]) -> Any:
    """Plain data from a node; problems (duplicate keys, exotic tags) are collected, not raised."""

    def issue(at: Node, message: str) -> None:
        issues.append(_node_issue(file, at, "", message))

    if isinstance(node, MappingNode):
        if node.tag != "tag:yaml.org,2002:map":
            issue(node, f"unsupported YAML tag {_short_tag(node.tag)!r}")
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                issue(key_node, "a mapping key must be plain text, not a list or mapping")
            elif key_node.value in mapping:
                issue(key_node, f"duplicate key {key_node.value!r}")
            else:
                mapping[key_node.value] = _construct(value_node, file, issues)
        return mapping
    if isinstance(node, SequenceNode):
        if node.tag != "tag:yaml.org,2002:seq":
            issue(node, f"unsupported YAML tag {_short_tag(node.tag)!r}")
        return [_construct(child, file, issues) for child in node.value]
    try:
        return _scalar(node.tag, node.value)
    except ValueError as error:
        issue(node, str(error))
        return None


def _scalar(tag: str, text: str) -> Any:
    kind = tag.removeprefix("tag:yaml.org,2002:")
    try:
        if kind == "str":
            return text
        if kind == "null":
            return None
        if kind == "bool":
            return {"true": True, "false": False}[text.lower()]
        if kind == "int":
            return int(text, 8) if text.startswith("0o") else int(text, 0 if text.startswith("0x") else 10)
        if kind == "float":
            return float(text.lower().replace(".inf", "inf").replace(".nan", "nan"))
    except (KeyError, ValueError):
        raise ValueError(f"{text!r} is not a valid {_short_tag(tag)}") from None
    raise ValueError(f"unsupported YAML tag {_short_tag(tag)!r}")


# --- mapping pydantic errors back to YAML positions -------------------------------------------------

_TAG_MODELS: dict[str, type[BaseModel]] = {
    "request": RequestStep,
    "set": SetStep,
    "sleep": SleepStep,
    "include": IncludeStep,
    "spec": CaptureSpec,
    "matcher": Matcher,
    "comparison": LengthComparison,
    "list": JsonPathCheck,
}
_UNION_TAGS = {
    *_TAG_MODELS,
    "path",
    "literal",
    "count",
    "mapping",
}  # loc parts naming a union branch, not a key
ChildLookup = Callable[[Any, "str | int"], "tuple[Any, Any] | None"]


def _node_child(node: Any, part: str | int) -> tuple[Any, Any] | None:
    if isinstance(node, MappingNode) and isinstance(part, str):
        return next(((k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == part), None)
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part], node.value[part]
    return None


def _data_child(data: Any, part: str | int) -> tuple[Any, Any] | None:
    if isinstance(data, dict) and isinstance(part, str) and part in data:
        return None, data[part]
    if isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
        return None, data[part]
    return None


def _format_path(parts: Sequence[str | int]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text


def _models_in(annotation: Any) -> set[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {annotation}
    return set().union(*(_models_in(arg) for arg in get_args(annotation)))


def _allowed_keys(root: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """Keys of the model an unknown key was found in, followed through fields and union tags."""
    model: type[BaseModel] | None = root
    for part in loc:
        fields = {info.alias or name: info for name, info in model.model_fields.items()} if model else {}
        if isinstance(part, str) and part in fields:
            models = _models_in(fields[part].annotation)
            model = models.pop() if len(models) == 1 else None
        elif isinstance(part, str) and part in _TAG_MODELS:
            model = _TAG_MODELS[part]
    return [info.alias or name for name, info in model.model_fields.items()] if model else []


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(error: ErrorDetails, root: type[BaseModel]) -> str:
    loc, kind = error["loc"], error["type"]
    if kind == "missing":
        return f"missing required key {loc[-1]!r}"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(root, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "allowed: " + ", ".join(allowed)
        return f"unknown key {loc[-1]!r}" + (f" ({hint})" if allowed else "")
    message = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    message = re.sub(r"a valid dictionary( or instance of \w+)?", "a mapping", message)
    message = message.replace(" after validation", "")
    if kind.endswith(("_type", "_parsing", "_too_short", "_too_long", "_than", "_equal")) or kind in (
        "literal_error",
        "enum",
    ):
        message += f", got {_describe(error['input'])}"
    return message


def _indexed(child: ChildLookup) -> ChildLookup:
    """``child``, with each mapping node's keys indexed the first time it is asked for one, so that
    locating N problems in a mapping of N keys is linear, not quadratic."""
    if child is not _node_child:
        return child
    indexes: dict[int, dict[str, tuple[Any, Any]]] = {}

    def lookup(node: Any, part: str | int) -> tuple[Any, Any] | None:
        if not (isinstance(node, MappingNode) and isinstance(part, str)):
            return _node_child(node, part)
        index = indexes.get(id(node))
        if index is None:
            index = {}
            for key, value in node.value:
                if isinstance(key, ScalarNode):
                    index.setdefault(key.value, (key, value))
            indexes[id(node)] = index
        return index.get(part)

    return lookup


def _issues(
    error: ValidationError, root_model: type[BaseModel], tree: Any, child: ChildLookup, file: str
) -> DefinitionError:
    """One issue per distinct problem, in document order; union branches failing at the same place are
    merged. Only the first MAX_REPORTED_ISSUES problems get a message (finding a close key name for an
    unknown key takes time); the others are counted."""
    child = _indexed(child)
    every = error.errors(include_url=False, include_context=False)
    # Without positions (JSON through the API) pydantic's order is the order: only the first are located.
    considered = every[:MAX_REPORTED_ISSUES] if child is _data_child else every
    located: list[tuple[int, int, list[str | int], ErrorDetails]] = []
    for details in considered:
        node, key, parts = tree, None, list[str | int]()
        loc = details["loc"]
        for index, part in enumerate(loc):
            step = child(node, part)
            is_tag = part in _UNION_TAGS and index + 1 < len(loc) and child(node, loc[index + 1]) is not None
            if step is not None and not is_tag:
                (key, node), parts = step, [*parts, part]
        at_key = details["type"] == "extra_forbidden" or details["loc"][-1:] == ("[key]",)
        if details["type"] == "extra_forbidden":
            parts = parts[:-1]
        mark_source = key if at_key and key is not None else node
        mark = getattr(mark_source, "start_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        located.append((line, column, parts, details))
    located.sort(key=lambda place: (place[0], place[1]))
    found: dict[tuple[int, int, str], list[tuple[str, str]]] = {}
    for line, column, parts, details in located[:MAX_REPORTED_ISSUES]:
        place = (line, column, _format_path(parts))
        found.setdefault(place, []).append((details["type"], _message(details, root_model)))
    unlisted = len(every) - min(len(located), MAX_REPORTED_ISSUES)
    issues = [
        DefinitionIssue(file, line, column, path, _merge(problems))
        for (line, column, path), problems in found.items()
    ]
    return DefinitionError(issues, unlisted=unlisted)


def _merge(problems: list[tuple[str, str]]) -> str:
    if len(problems) > 1 and all(kind.endswith("_type") for kind, _ in problems):
        expected = [
            message.split(", got ")[0].removeprefix("Input should be a valid ") for _, message in problems
        ]
        names = list(dict.fromkeys(expected))
        got = problems[0][1].split(", got ")[-1]
        return f"Input should be a valid {', '.join(names[:-1])} or {names[-1]}, got {got}"
    return "; ".join(dict.fromkeys(message for _, message in problems))


# --- public API -------------------------------------------------------------------------------------


def _document(text: str, file: str) -> tuple[Any, Node]:
    """The plain data of a file that must hold a mapping, and its tree."""
    if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise DefinitionError([DefinitionIssue(file, 1, 1, "", "file is larger than 1 MiB")])
    root = _compose(text, file)
    if root is None or (isinstance(root, ScalarNode) and root.value == "" and root.tag.endswith(":null")):
        message = "the file is empty; a test case needs 'name' and 'steps', a suite needs 'suite' and 'tests'"
        raise DefinitionError([DefinitionIssue(file, 1, 1, "", message)])
    if not isinstance(root, MappingNode):
        kind = "a list" if isinstance(root, SequenceNode) else "a single value"
        message = f"a test definition must be a mapping with 'steps' or 'suite', not {kind}"
        raise DefinitionError([_node_issue(file, root, "", message)])
    construct_issues: list[DefinitionIssue] = []
    data = _construct(root, file, construct_issues)
    if construct_issues:
        raise DefinitionError(construct_issues)
    return data, root


def is_fragment(root: Node | None) -> bool:
    """Whether a file's tree is a fragment of steps (``fragment:``), used only through ``include``."""
    return isinstance(root, MappingNode) and _node_child(root, "fragment") is not None


def _parse(
    text: str, file: str, fragments: FragmentSource | None = None
) -> tuple[Definition | None, Node | None]:
    data, root = _document(text, file)
    if is_fragment(root):
        return None, root
    if "steps" in data and "suite" in data:
        key, _ = _node_child(root, "suite") or (root, root)
        message = "a document is either a test case ('steps') or a suite ('suite'), not both"
        raise DefinitionError([_node_issue(file, key, "", message)])
    model: type[Definition] = TestCaseDefinition if "steps" in data else SuiteDefinition
    if "steps" not in data and "suite" not in data:
        return None, root
    try:
        definition = model.model_validate(data)
    except ValidationError as error:
        raise _issues(error, model, root, _node_child, file) from None
    if isinstance(definition, TestCaseDefinition) and _includes(definition):
        source = fragments or NoFragments()
        expanded = _expanded(data, root, file, source, (source.name_of(file),))
        try:
            definition = TestCaseDefinition.model_validate(expanded)
        except ValidationError as error:
            raise _issues(error, TestCaseDefinition, expanded, _data_child, file) from None
    return definition, root


# --- include: fragments of steps put in place -------------------------------------------------------

_SECTIONS = ("setup", "steps", "teardown")


def _includes(definition: TestCaseDefinition) -> list[tuple[str, int]]:
    return [
        (section, index)
        for section in _SECTIONS
        for index, step in enumerate(getattr(definition, section))
        if isinstance(step, IncludeStep)
    ]


def _expanded(
    data: dict[str, Any], root: Node, file: str, source: FragmentSource, chain: tuple[str, ...]
) -> dict[str, Any]:
    """``data`` with each include step replaced by the fragment's steps (themselves expanded)."""
    result = dict(data)
    for section in _SECTIONS:
        if not isinstance(data.get(section), list):
            continue
        steps: list[Any] = []
        for index, item in enumerate(data[section]):
            if isinstance(item, dict) and "include" in item:
                steps += _fragment_steps(
                    item, _issue_at(Path(file), root, [section, index], ""), source, chain
                )
            else:
                steps.append(item)
        result[section] = steps
    return result


def _fragment_steps(
    item: dict[str, Any], at: DefinitionIssue, source: FragmentSource, chain: tuple[str, ...]
) -> list[Any]:
    def problem(message: str) -> DefinitionError:
        return DefinitionError([DefinitionIssue(at.file, at.line, at.column, at.path, message)])

    reference, given = item["include"], dict(item.get("with") or {})
    try:
        name = source.locate(at.file, reference)
    except FragmentMissing as error:
        raise problem(str(error)) from None
    if name in chain:
        raise problem("include cycle: " + " -> ".join([*chain[chain.index(name) :], name]))
    if len(chain) > MAX_INCLUDE_DEPTH:
        raise problem(f"includes are nested more than {MAX_INCLUDE_DEPTH} levels deep")
    data, root = _document(source.read(name), name)
    if not is_fragment(root):
        raise problem(f"{reference!r} is not a fragment: a mapping with 'fragment', 'params' and 'steps'")
    declared = data.get("params") if isinstance(data.get("params"), dict) else {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        allowed = ", ".join(sorted(declared)) or "none"
        raise problem(f"{reference!r} has no parameter {unknown[0]!r} (its params: {allowed})")
    values = {**declared, **given}
    missing = sorted(key for key, value in values.items() if value is None and key not in given)
    if missing:
        raise problem(f"{reference!r} needs the parameter {missing[0]!r} (give it in 'with')")
    undeclared = sorted(referenced_params(data.get("steps")) - set(declared))
    if undeclared:
        message = f"params.{undeclared[0]} is used but not declared in 'params'"
        raise DefinitionError([_issue_at(Path(name), root, ["steps"], message)])
    data = {**data, "steps": with_params(data.get("steps"), values)}
    try:
        FragmentDefinition.model_validate(data)
    except ValidationError as error:
        raise _issues(error, FragmentDefinition, root, _node_child, name) from None
    steps: list[Any] = _expanded(data, root, name, source, (*chain, name))["steps"]
    return steps


def parse_document(text: str, file: str) -> Definition | None:
    """A test case or suite from YAML text; None when the mapping has neither ``steps`` nor ``suite`` (or is
    a fragment). Text alone has no files beside it: an include in it is a problem."""
    return _parse(text, file)[0]


def parse_text(
    text: str, file: str, fragments: FragmentSource | None = None
) -> tuple[Definition | None, Node | None]:
    """Like ``parse_document``, with the YAML tree, so that later checks can place a problem in the text;
    ``fragments``: where its includes are found."""
    return _parse(text, file, fragments)


def _read(path: Path) -> str:
    file = str(path)
    if not path.exists():
        raise DefinitionError([DefinitionIssue(file, 0, 0, "", "no such file or directory")])
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise DefinitionError([DefinitionIssue(file, 1, 1, "", "file is larger than 1 MiB")])
        raw = path.read_bytes()
    except OSError as error:
        raise DefinitionError([DefinitionIssue(file, 0, 0, "", error.strerror or str(error))]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line, column = before.count(b"\n") + 1, error.start - (before.rfind(b"\n") + 1) + 1
        where = f"line {line}, column {column}"
        message = f"file is not valid UTF-8 (byte 0x{raw[error.start]:02x} at {where})"
        raise DefinitionError([DefinitionIssue(file, 1, 1, "", message)]) from None


def load_model_file(path: Path, model: type[_M], what: str) -> _M:
    """A YAML (or JSON) file holding one mapping of ``model`` (``what`` names it in messages), its problems
    placed like a definition's (``orchestra run --env-defaults FILE``)."""
    file = str(path)
    root = _compose(_read(path), file)
    if not isinstance(root, MappingNode):
        raise DefinitionError([DefinitionIssue(file, 1, 1, "", f"{what} must be a mapping")])
    issues: list[DefinitionIssue] = []
    data = _construct(root, file, issues)
    if issues:
        raise DefinitionError(issues)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _issues(error, model, root, _node_child, file) from None


def load_file(path: Path) -> Definition | None:
    """Like ``parse_document`` for a file; missing, oversized and non-UTF-8 files are issues too."""
    return _parse(_read(path), str(path), DiskFragments(_read))[0]


def _yaml_files(folder: Path) -> list[Path]:
    """``*.yaml``/``*.yml`` below ``folder``, sorted; hidden folders (.git, .venv) are not even entered."""
    found: list[Path] = []
    for directory, subdirectories, files in os.walk(folder):
        subdirectories[:] = [name for name in subdirectories if not name.startswith(".")]
        found.extend(Path(directory, name) for name in files if name.endswith((".yaml", ".yml")))
    return sorted(found)


def _expand(paths: Sequence[Path], issues: list[DefinitionIssue]) -> Iterator[Path]:
    seen: set[Path] = set()
    for path in paths:
        if not path.exists():
            issues.append(DefinitionIssue(str(path), 0, 0, "", "no such file or directory"))
            continue
        for candidate in _yaml_files(path) if path.is_dir() else [path]:
            if candidate.resolve() not in seen:
                seen.add(candidate.resolve())
                yield candidate


def _issue_at(path: Path, root: Node, loc: Sequence[str | int], message: str) -> DefinitionIssue:
    node: Node = root
    for part in loc:
        step = _node_child(node, part)
        node = step[1] if step else node
    return _node_issue(str(path), node, _format_path(loc), message)


def _with_parameter_rows(
    path: Path, definition: TestCaseDefinition, reference: ParametersFile
) -> TestCaseDefinition:
    """The test case with the rows of its parameters file (relative to its own file) in place."""
    source = path.parent / reference.file
    try:
        rows = load_rows(source)
    except DataFileError as error:
        raise DataFileError(f"{source}: {error}") from None
    return definition.model_copy(update={"parameters": rows})


def load_paths(paths: Sequence[Path]) -> LoadedDefinitions:
    """Every test case and suite under ``paths``; all issues of all files are raised together."""
    issues: list[DefinitionIssue] = []
    loaded = LoadedDefinitions()
    roots = loaded.roots
    for path in _expand(paths, issues):
        try:
            definition, root = _parse(_read(path), str(path), DiskFragments(_read))
        except DefinitionError as error:
            issues.extend(error.issues)
            continue
        if isinstance(definition, TestCaseDefinition) and isinstance(definition.parameters, ParametersFile):
            try:
                definition = _with_parameter_rows(path, definition, definition.parameters)
            except DataFileError as error:
                assert root is not None  # a test case has a tree
                issues.append(_issue_at(path, root, ["parameters", "file"], str(error)))
                continue
        if isinstance(definition, TestCaseDefinition):
            loaded.test_cases.append((path, definition))
        elif isinstance(definition, SuiteDefinition):
            loaded.suites.append((path, definition))
        if root is not None:
            roots[path] = root
    broken_files = bool(issues)
    names: set[str] = set()
    for path, test_case in loaded.test_cases:
        if test_case.name in names:
            message = f"duplicate test case name {test_case.name!r}"
            issues.append(_issue_at(path, roots[path], ["name"], message))
        names.add(test_case.name)
    suite_names: set[str] = set()
    for path, suite in loaded.suites:
        if suite.suite in suite_names:
            issues.append(_issue_at(path, roots[path], ["suite"], f"duplicate suite name {suite.suite!r}"))
        suite_names.add(suite.suite)
        if not broken_files:  # a broken test-case file would make every suite reference look unknown
            for index, name in enumerate(suite.tests):
                if name != "*" and name not in names:
                    message = f"unknown test case {name!r}"
                    issues.append(_issue_at(path, roots[path], ["tests", index], message))
    if issues:
        raise DefinitionError(issues)
    return loaded


def _validate_data(model: type[BaseModel], data: Any, what: str) -> Any:
    if not isinstance(data, dict):
        raise DefinitionError([DefinitionIssue(REQUEST_FILE, 0, 0, "", f"{what} must be a JSON object")])
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _issues(error, model, data, _data_child, REQUEST_FILE) from None


def validate_test_case_data(data: Any) -> TestCaseDefinition:
    """A test case from JSON that came through the API; issues have no position, only a path. Includes
    are resolved from files (``orchestra apply``, ``POST …/apply/files``), so JSON holds none."""
    result: TestCaseDefinition = _validate_data(TestCaseDefinition, data, "a test case")
    message = (
        "include is resolved when files are loaded (orchestra apply, POST …/apply/files): send the steps"
    )
    found = [
        DefinitionIssue(REQUEST_FILE, 0, 0, _format_path([section, index, "include"]), message)
        for section, index in _includes(result)
    ]
    if found:
        raise DefinitionError(found)
    return result


def validate_suite_data(data: Any) -> SuiteDefinition:
    result: SuiteDefinition = _validate_data(SuiteDefinition, data, "a suite")
    return result
