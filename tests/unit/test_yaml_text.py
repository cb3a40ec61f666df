"""YAML files written for download read back to the definition they were written from (by the loader's
YAML 1.2 rules), and uploaded texts are read like files on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestra.definitions.loader import DefinitionError, load_paths, parse_document
from orchestra.definitions.yaml_text import (
    download_name,
    dump,
    load_texts,
    parse_path,
    yaml_of_suite,
    yaml_of_test_case,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def stored(definition: Any) -> dict[str, Any]:
    result: dict[str, Any] = definition.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return result


def test_every_example_reads_back_the_same() -> None:
    loaded = load_paths([EXAMPLES])
    assert loaded.test_cases
    for path, case in loaded.test_cases:
        text = yaml_of_test_case(stored(case))
        again = parse_document(text, str(path))
        assert again is not None
        assert stored(again) == stored(case), path
    for path, suite in loaded.suites:
        again = parse_document(yaml_of_suite(stored(suite)), str(path))
        assert again is not None
        assert stored(again) == stored(suite), path


@settings(max_examples=500)
@given(
    st.one_of(
        st.text(),
        st.text(alphabet=st.sampled_from("ab #:-'\"\n\t"), min_size=60, max_size=300),
        st.sampled_from(
            ["0o17", "1e3", ".5", "+1", "0x1F", ".inf", "-.NaN", "~", "Null", "TRUE", "yes", "a: b"]
        ),
        st.integers(),
        st.floats(allow_nan=False),
        st.booleans(),
        st.none(),
    )
)
def test_any_value_reads_back_as_it_was(value: Any) -> None:
    definition = {"name": "t", "variables": {"v": value}, "steps": [{"request": {"url": "x"}}]}
    text = dump(definition)
    try:
        read = parse_document(text, "t.yaml")
    except DefinitionError as error:  # text YAML cannot carry at all (a NUL, a lone surrogate)
        refused = str(error)
        read = None
    else:
        refused = ""
    if read is None:
        assert "not allowed in YAML" in refused
        return
    assert read.variables["v"] == value


def test_a_stored_version_the_language_no_longer_accepts_is_written_as_stored() -> None:
    old = {"name": "t", "steps": [{"request": {"url": "x"}, "retired_key": 1}]}
    assert "retired_key: 1" in yaml_of_test_case(old)


def test_uploaded_texts_are_read_like_files() -> None:
    loaded = load_texts(
        [("a.yaml", "name: a\nsteps:\n  - request: {url: x}\n"), ("s.yaml", "suite: s\ntests: [a]\n")]
    )
    assert [path.name for path, _ in loaded.test_cases] == ["a.yaml"]
    assert [path.name for path, _ in loaded.suites] == ["s.yaml"]
    issue = loaded.issue_at(Path("s.yaml"), ["tests", 0], "m")
    assert (issue.line, issue.column) == (2, 9)
    with pytest.raises(DefinitionError) as raised:
        load_texts([("a.yaml", "name: a\nsteps: [\n"), ("b.yaml", "other: 1\n")])
    assert [(issue.file, issue.line) for issue in raised.value.issues] == [("a.yaml", 3), ("b.yaml", 1)]


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("", []),
        ("name", ["name"]),
        ("steps[0].expect.json['$.id']", ["steps", 0, "expect", "json", "$.id"]),
        ('headers["it\'s"].x', ["headers", "it's", "x"]),
        ("steps[0].?bad", ["steps", 0]),
    ],
)
def test_problem_paths_are_read_back_into_keys(path: str, parts: list[str | int]) -> None:
    assert parse_path(path) == parts


@pytest.mark.parametrize(
    ("name", "file"),
    [
        ("items-list", "items-list.yaml"),
        ('a "b"/ü', "a-b.yaml"),
        ("///", "definition.yaml"),
        ("x.yaml", "x.yaml"),
    ],
)
def test_download_names_are_safe(name: str, file: str) -> None:
    assert download_name(name) == file
