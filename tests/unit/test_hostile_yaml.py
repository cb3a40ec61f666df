"""Hostile YAML files through the CLI: refused before anything starts, exit code 2, the place in the file.

The loader's rules themselves (no aliases, at most 100 levels, 1 MiB) are tested in test_loader.py; these
tests show that the classic attacks hit them and how the command line reports it. The REST API takes JSON
only (YAML bodies are 415, see tests/integration/test_hostile_input.py), so the loader is the one place YAML
is parsed.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestra.cli.main import app
from orchestra.definitions.loader import MAX_DEPTH, MAX_FILE_BYTES, DefinitionError, parse_document

BILLION_LAUGHS = (
    "name: lol\nsteps: [{sleep: 1}]\nvariables:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10))
)  # 9 ** 10 strings once expanded


def run_cli(tmp_path: Path, text: str) -> tuple[int, str]:
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["run", str(path), "--base-url", "http://127.0.0.1:9", "--data-dir", str(tmp_path / "d")]
    )
    return result.exit_code, squeeze(result.stderr)


def squeeze(text: str) -> str:
    """Without whitespace: rich wraps long lines (file paths included) at the terminal width."""
    return "".join(text.split())


def test_billion_laughs_is_refused_at_the_first_alias(tmp_path: Path) -> None:
    started = time.monotonic()
    code, stderr = run_cli(tmp_path, BILLION_LAUGHS)
    assert code == 2
    assert squeeze("hostile.yaml:5:12: YAML aliases are not allowed in test definitions") in stderr
    assert time.monotonic() - started < 5  # refused while composing, long before any expansion
    assert not (tmp_path / "d").exists()  # nothing was started, let alone stored


def test_merge_keys_are_aliases_too(tmp_path: Path) -> None:
    text = "name: t\nsteps:\n  - request: &r {url: http://x}\n  - request: {<<: *r, method: POST}\n"
    code, stderr = run_cli(tmp_path, text)
    assert code == 2
    assert squeeze("YAML aliases are not allowed") in stderr


@pytest.mark.parametrize("opening", ["[", "{a: ", "- "])
def test_deep_nesting_is_refused_at_the_limit(tmp_path: Path, opening: str) -> None:
    closing = {"[": "]", "{a: ": "}", "- ": ""}[opening]
    if opening == "- ":  # block style: every level indented one step further
        deep = "".join(" " * (2 * level) + "-\n" for level in range(200)) + " " * 400 + "- x\n"
        text = "name: t\nsteps: [{sleep: 1}]\nvariables:\n  x:\n" + "\n".join(
            "    " + line for line in deep.splitlines()
        )
    else:
        text = (
            "name: t\nsteps: [{sleep: 1}]\nvariables: {x: "
            + opening * 10_000
            + "1"
            + closing * 10_000
            + "}\n"
        )
    code, stderr = run_cli(tmp_path, text)
    assert code == 2
    assert squeeze(f"nesting is deeper than {MAX_DEPTH} levels") in stderr


def test_nesting_up_to_the_limit_is_accepted() -> None:
    levels = MAX_DEPTH - 2  # the document mapping and 'variables' are two levels
    text = (
        "name: t\nsteps: [{sleep: 1}]\nvariables: {x: "
        + "[" * (levels - 1)
        + "1"
        + "]" * (levels - 1)
        + "}\n"
    )
    definition = parse_document(text, "t.yaml")
    assert definition is not None
    with pytest.raises(DefinitionError, match=f"deeper than {MAX_DEPTH}"):
        parse_document(text.replace("{x: ", "{x: [").replace("}\n", "]}\n"), "t.yaml")


def test_oversized_and_binary_files_exit_two(tmp_path: Path) -> None:
    code, stderr = run_cli(tmp_path, "name: t\n" + "#" * MAX_FILE_BYTES)
    assert code == 2
    assert squeeze("file is larger than 1 MiB") in stderr
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"name: t\nsteps: [{sleep: 1}]\ndescription: \xff\xfe\n")
    result = CliRunner().invoke(
        app, ["run", str(path), "--base-url", "http://127.0.0.1:9", "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 2
    assert squeeze("not valid UTF-8") in squeeze(result.stderr)
