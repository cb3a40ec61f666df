"""`orchestra admin export/import`: the project document as a file (JSON, or YAML by the file's suffix),
read with limits: a file too large, malformed, nested too deep or using YAML aliases (which could expand
beyond any size) is refused with a one-line reason before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from orchestra.cli.usage import UsageError
from orchestra.transfer.schemas import ExportedProject, ImportResult, ProjectDocument

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024  # what the API accepts in one request by default
MAX_DEPTH = 100
YAML_SUFFIXES = (".yaml", ".yml")


def write_document(path: Path, document: dict[str, Any]) -> None:
    if path.suffix.lower() in YAML_SUFFIXES:
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {path}: {error.strerror}") from None


def check_project_name(name: str) -> None:
    try:
        ExportedProject(name=name)
    except ValidationError as error:
        raise UsageError(f"--project {name!r}: {error.errors()[0]['msg']}") from None


def read_document(path: Path) -> ProjectDocument:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise UsageError(f"{path} is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    data = _parse(path, text)
    if not isinstance(data, dict) or data.get("format") != "orchestra.project":
        raise UsageError(f"{path} is not an Orchestra project document (no 'format: orchestra.project')")
    if _depth(data) > MAX_DEPTH:
        raise UsageError(f"{path} is nested deeper than {MAX_DEPTH} levels")
    try:
        return ProjectDocument.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or '(document)'}: {item['msg']}"
            for item in error.errors()[:10]
        )
        more = f" (and {error.error_count() - 10} more)" if error.error_count() > 10 else ""
        raise UsageError(f"{path} is not a valid project document: {problems}{more}") from None


def _parse(path: Path, text: str) -> Any:
    if path.suffix.lower() in YAML_SUFFIXES:
        try:
            for event in yaml.parse(text, Loader=yaml.CSafeLoader):
                if isinstance(event, yaml.AliasEvent):
                    raise UsageError(f"{path} uses YAML aliases (*name), which a project document never has")
            return yaml.load(text, Loader=yaml.CSafeLoader)
        except yaml.YAMLError as error:
            raise UsageError(f"{path} is not valid YAML: {str(error).splitlines()[0]}") from None
        except RecursionError:
            raise UsageError(f"{path} is nested deeper than {MAX_DEPTH} levels") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"{path} is not valid JSON: {error}") from None
    except RecursionError:
        raise UsageError(f"{path} is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:  # a number longer than Python reads, say
        raise UsageError(f"{path} is not valid JSON: {error}") from None


def _depth(data: Any) -> int:
    """How deeply ``data`` nests, without recursing (a hostile file must not exhaust the stack)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            return level
        if isinstance(value, dict):
            stack += [(item, level + 1) for item in value.values()]
        elif isinstance(value, list):
            stack += [(item, level + 1) for item in value]
    return deepest


def report(result: ImportResult, console: Console) -> None:
    created = "created" if result.created else "updated"
    console.print(f"project {escape(result.project)}: {created}")
    for kind, items in (
        ("environment", result.environments),
        ("test case", result.test_cases),
        ("suite", result.suites),
        ("schedule", result.schedules),
    ):
        for item in items:
            console.print(f"  {kind} {escape(item.name)}: {item.result}")
    if result.secrets_to_set:
        console.print("secrets to set before running (their values are never exported):")
        for secret in result.secrets_to_set:
            console.print(f"  environment {escape(secret.environment)}: {escape(secret.name)}")
