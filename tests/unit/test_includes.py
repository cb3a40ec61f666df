"""include: fragments of steps put in place when files are loaded: parameters, errors at their place."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestra.definitions.loader import DefinitionError, load_paths, parse_document, validate_test_case_data
from orchestra.definitions.testcase_model import RequestStep, SleepStep
from orchestra.definitions.yaml_text import load_texts

FRAGMENT = """fragment: wait and call
params: { path: null, code: 200 }
steps:
  - sleep: 1
  - request: { url: "http://sut/{{ params.path }}" }
    expect: { status: "{{ params.code }}" }
"""


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def case(*steps: str) -> str:
    return "name: t\nsteps:\n" + "".join(f"  - {step}\n" for step in steps)


def test_an_include_is_replaced_by_the_fragment_steps_with_its_parameters(tmp_path: Path) -> None:
    write(
        tmp_path, {"common/f.yaml": FRAGMENT, "t.yaml": case("include: common/f.yaml\n    with: { path: a }")}
    )
    ((_, test),) = load_paths([tmp_path]).test_cases
    assert [type(step) for step in test.steps] == [SleepStep, RequestStep]
    request = test.steps[1]
    assert isinstance(request, RequestStep)
    assert request.request.url == "http://sut/a"
    assert request.expect is not None
    assert request.expect.status == 200


def test_files_sent_together_include_each_other_by_relative_path() -> None:
    including = case("include: ../common/f.yaml\n    with: { path: b, code: 201 }")
    loaded = load_texts([("cases/t.yaml", including), ("common/f.yaml", FRAGMENT)])
    ((_, test),) = loaded.test_cases
    assert len(test.steps) == 2


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"t.yaml": case("include: nope.yaml")}, "t.yaml:3:5: steps[0]: included file 'nope.yaml' not found"),
        ({"t.yaml": case("include: f.yaml"), "f.yaml": FRAGMENT}, "needs the parameter 'path'"),
        (
            {"t.yaml": case("include: f.yaml\n    with: { path: a, x: 1 }"), "f.yaml": FRAGMENT},
            "no parameter 'x'",
        ),
        (
            {"t.yaml": case("include: f.yaml"), "f.yaml": "name: g\nsteps:\n  - sleep: 1\n"},
            "is not a fragment",
        ),
        (
            {
                "t.yaml": case("include: a.yaml"),
                "a.yaml": "fragment: a\nsteps:\n  - include: b.yaml\n",
                "b.yaml": "fragment: b\nsteps:\n  - include: a.yaml\n",
            },
            "include cycle: ",
        ),
        (
            {
                "t.yaml": case("include: f.yaml"),
                "f.yaml": "fragment: f\nsteps:\n  - sleep: '{{ params.d }}'\n",
            },
            "f.yaml:3:3: steps: params.d is used but not declared",
        ),
        (
            {"t.yaml": case("include: f.yaml"), "f.yaml": "fragment: f\nsteps:\n  - sleep: 1\n  - slep: 2\n"},
            "f.yaml:4:5: steps[1]: a step needs exactly one of",
        ),
        (
            {"t.yaml": case("include: 5"), "f.yaml": FRAGMENT},
            "t.yaml:3:14: steps[0].include: Input should be a valid string, got 5",
        ),
    ],
)
def test_include_problems_are_named_with_their_file_and_line(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    write(tmp_path, files)
    with pytest.raises(
        DefinitionError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")
    ):
        load_paths([tmp_path / "t.yaml"])


def test_includes_nested_too_deep_are_refused(tmp_path: Path) -> None:
    files = {
        f"f{level}.yaml": f"fragment: f\nsteps:\n  - include: f{level + 1}.yaml\n" for level in range(12)
    }
    write(tmp_path, {**files, "t.yaml": case("include: f0.yaml")})
    with pytest.raises(DefinitionError, match="nested more than 8 levels deep"):
        load_paths([tmp_path / "t.yaml"])


def test_text_alone_and_json_through_the_api_cannot_include() -> None:
    with pytest.raises(DefinitionError, match="includes are resolved when files are loaded"):
        parse_document(case("include: f.yaml"), "t.yaml")
    with pytest.raises(
        DefinitionError, match=r"steps\[0\]\.include: include is resolved when files are loaded"
    ):
        validate_test_case_data({"name": "t", "steps": [{"include": "f.yaml"}]})
