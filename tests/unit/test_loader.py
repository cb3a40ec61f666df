"""Loading YAML definitions: every problem is reported as ``file:line:column: path: message``."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path
from typing import Any

import pytest

from orchestra.definitions.loader import (
    MAX_FILE_BYTES,
    DefinitionError,
    DefinitionIssue,
    LoadedDefinitions,
    load_file,
    load_paths,
    parse_document,
    validate_suite_data,
    validate_test_case_data,
)
from orchestra.definitions.testcase_model import SleepStep, SuiteDefinition, TestCaseDefinition

FIXTURES = Path(__file__).parent.parent / "fixtures" / "definitions"


def problems(text: str) -> list[str]:
    """The issues of a YAML document, as the CLI prints them."""
    with pytest.raises(DefinitionError) as caught:
        parse_document(textwrap.dedent(text), "t.yaml")
    assert str(caught.value) == "\n".join(str(issue) for issue in caught.value.issues)
    return [str(issue) for issue in caught.value.issues]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_issue_format() -> None:
    assert (
        str(DefinitionIssue("a.yaml", 3, 7, "steps[0].expect", "boom")) == "a.yaml:3:7: steps[0].expect: boom"
    )
    assert str(DefinitionIssue("a.yaml", 1, 1, "", "boom")) == "a.yaml:1:1: boom"
    error = DefinitionError([DefinitionIssue("a", 1, 1, "", "x"), DefinitionIssue("b", 2, 2, "p", "y")])
    assert str(error) == "a:1:1: x\nb:2:2: p: y"


def test_parses_a_test_case() -> None:
    definition = parse_document(
        """
        name: smoke
        steps:
          - request: {url: "{{ env.base_url }}/health"}
            expect: {status: 200}
        """,
        "t.yaml",
    )
    assert isinstance(definition, TestCaseDefinition)
    assert definition.name == "smoke"


def test_parses_a_suite() -> None:
    suite = parse_document("suite: all\ntests: ['*']\n", "s.yaml")
    assert isinstance(suite, SuiteDefinition)
    assert suite.tests == ["*"]


def test_a_mapping_without_steps_or_suite_is_not_a_definition() -> None:
    assert parse_document("version: 2\nservices: {}\n", "docker-compose.yml") is None


def test_full_featured_fixture_loads() -> None:
    definition = load_file(FIXTURES / "full-featured.yaml")
    assert isinstance(definition, TestCaseDefinition)
    assert [step.display_name(i) for i, step in enumerate(definition.steps)] == [
        "create the order",
        "set order_url, order_label",
        "sleep 250ms",
        "wait until paid",
    ]


# --- YAML-level problems --------------------------------------------------------------------------------


def test_yaml_syntax_errors_point_at_the_problem() -> None:
    assert problems('name: t\nsteps:\n  - request: {url: "http://x"\n') == [
        "t.yaml:4:1: did not find expected ',' or '}' (while parsing a flow mapping at line 3, column 14)"
    ]
    assert problems("name: t\n steps: []\n") == ["t.yaml:2:7: mapping values are not allowed in this context"]
    assert problems("name: t\nsteps:\n\t- x\n") == [
        "t.yaml:3:1: found character '\\t' that cannot start any token"
    ]
    assert problems("name: 'unterminated\n") == [
        "t.yaml:2:1: found unexpected end of stream (while scanning a quoted scalar at line 1, column 7)"
    ]


def test_aliases_are_refused() -> None:
    assert problems("name: &n t\nsteps:\n  - request: {url: *n}\n") == [
        "t.yaml:3:20: YAML aliases are not allowed in test definitions"
    ]


def test_alias_bomb_is_refused_before_expansion() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9)
    )
    assert problems(bomb) == ["t.yaml:2:8: YAML aliases are not allowed in test definitions"]


def test_duplicate_keys_point_at_the_second_key() -> None:
    assert problems("name: t\nsteps: [{sleep: 1}]\nname: u\n") == ["t.yaml:3:1: duplicate key 'name'"]
    assert problems("name: t\nsteps:\n  - sleep: 1\n    sleep: 2\n") == ["t.yaml:4:5: duplicate key 'sleep'"]


def test_only_one_document_per_file() -> None:
    assert problems("name: t\nsteps: [{sleep: 1}]\n---\nname: u\n") == [
        "t.yaml:3:1: only one YAML document per file is allowed"
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_documents(text: str) -> None:
    assert problems(text) == [
        "t.yaml:1:1: the file is empty; a test case needs 'name' and 'steps', a suite needs 'suite' and "
        "'tests'"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- b\n", "t.yaml:1:1: a test definition must be a mapping with 'steps' or 'suite', not a list"),
        (
            "hello\n",
            "t.yaml:1:1: a test definition must be a mapping with 'steps' or 'suite', not a single value",
        ),
    ],
)
def test_top_level_must_be_a_mapping(text: str, expected: str) -> None:
    assert problems(text) == [expected]


def test_test_case_and_suite_at_once() -> None:
    assert problems("suite: s\ntests: ['*']\nsteps: [{sleep: 1}]\n") == [
        "t.yaml:1:1: a document is either a test case ('steps') or a suite ('suite'), not both"
    ]


def test_deep_nesting_is_refused_without_recursion_errors() -> None:
    deep = "name: t\nsteps: [{sleep: 1}]\nvariables: {x: " + "[" * 5000 + "]" * 5000 + "}\n"
    assert problems(deep) == ["t.yaml:3:114: nesting is deeper than 100 levels"]


def test_control_characters_are_refused() -> None:
    assert problems("name: t\x00\nsteps: []\n") == ["t.yaml:1:8: character U+0000 is not allowed in YAML"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: !!binary aGk=\nsteps: [{sleep: 1}]\n", "t.yaml:1:7: unsupported YAML tag '!!binary'"),
        (
            "name: !!python/object:os.system x\n",
            "t.yaml:1:7: unsupported YAML tag '!!python/object:os.system'",
        ),
        ("name: !custom {a: 1}\n", "t.yaml:1:7: unsupported YAML tag '!custom'"),
        ("name: !!int abc\n", "t.yaml:1:7: 'abc' is not a valid !!int"),
        ("? [a]\n: b\n", "t.yaml:1:3: a mapping key must be plain text, not a list or mapping"),
    ],
)
def test_exotic_yaml_is_refused(text: str, expected: str) -> None:
    assert problems(text) == [expected]


def test_scalars_follow_the_yaml_1_2_core_schema() -> None:
    definition = parse_document(
        """
        name: t
        variables:
          country: NO
          answer: yes
          time: 1:30
          day: 2024-01-01
          octal: 0o17
          hex: 0x1F
          big: 1e3
          nothing: ~
          truth: true
          quoted: "42"
          number: -7
        steps: [{sleep: 1}]
        """,
        "t.yaml",
    )
    assert isinstance(definition, TestCaseDefinition)
    assert definition.variables == {
        "country": "NO",
        "answer": "yes",
        "time": "1:30",
        "day": "2024-01-01",
        "octal": 15,
        "hex": 31,
        "big": 1000.0,
        "nothing": None,
        "truth": True,
        "quoted": "42",
        "number": -7,
    }


# --- validation problems mapped to positions -------------------------------------------------------------


def test_unknown_key_suggests_the_closest_key() -> None:
    text = """
    name: t
    steps:
      - request:
          url: http://x
        expectt:
          status: 200
    """
    assert problems(text) == ["t.yaml:6:5: steps[0]: unknown key 'expectt' (did you mean 'expect'?)"]


def test_unknown_key_without_a_close_match_lists_the_allowed_keys() -> None:
    assert problems("name: t\nsteps: [{sleep: 1}]\ncolour: red\n") == [
        "t.yaml:3:1: unknown key 'colour' (allowed: name, description, tags, variables, data, parameters, "
        "timeout_s, defaults, retry_failed, on_failure, on_error, status_gates, setup, steps, teardown)"
    ]


def test_unknown_keys_inside_unions_are_reported_against_the_chosen_branch() -> None:
    text = """
    name: t
    steps:
      - request: {url: x, methd: GET}
        capture: {b: {jsn: $.x}}
        expect: {json: {$.a: {length: {gtee: 1}}}}
    """
    assert problems(text) == [
        "t.yaml:4:23: steps[0].request: unknown key 'methd' (did you mean 'method'?)",
        "t.yaml:5:19: steps[0].capture.b: unknown key 'jsn' (did you mean 'json'?)",
        "t.yaml:6:36: steps[0].expect.json['$.a'].length: unknown key 'gtee' (did you mean 'gte'?)",
    ]


def test_missing_key_points_at_the_mapping_that_lacks_it() -> None:
    text = """
    name: t
    steps:
      - request:
          method: GET
    """
    assert problems(text) == ["t.yaml:5:7: steps[0].request: missing required key 'url'"]
    assert problems("steps: [{sleep: 1}]\n") == ["t.yaml:1:1: missing required key 'name'"]


def test_many_problems_are_reported_together_in_file_order() -> None:
    text = """
    name: t
    timeout_s: abc
    steps:
      - request:
          url: http://x
          timeout_ms: abc
          query: {a: {b: 1}}
        expect:
          status: 2000
          json:
            "$.a[": 1
            "$.b": {matches: "("}
        capture:
          env: $.x
          ok: {json: $.a, header: X}
      - {request: {url: x}, set: {a: 1}}
      - sleep: abc
      - 5
    """
    assert problems(text) == [
        "t.yaml:3:12: timeout_s: Input should be a valid number, unable to parse string as a number, got "
        "'abc'",
        "t.yaml:7:19: steps[0].request.timeout_ms: Input should be a valid integer, unable to parse string "
        "as an "
        "integer, got 'abc'",
        "t.yaml:8:18: steps[0].request.query.a: Input should be a valid string, integer, number, boolean or "
        "list, "
        "got a mapping",
        "t.yaml:10:15: steps[0].expect.status: a status code is an integer from 100 to 599, got 2000",
        "t.yaml:12:9: steps[0].expect.json['$.a[']: invalid JSONPath '$.a[': Parse error near the end of "
        "string!",
        "t.yaml:13:26: steps[0].expect.json['$.b'].matches: invalid regular expression '(': missing ): (",
        "t.yaml:15:7: steps[0].capture.env: 'env' is a reserved name (data, env, response, run, secrets, "
        "step, vars)",
        "t.yaml:16:11: steps[0].capture.ok: a capture needs exactly one of: json, header, status, body",
        "t.yaml:17:5: steps[1]: a step needs exactly one of: request, set, sleep, include",
        "t.yaml:18:12: steps[2].sleep: invalid duration 'abc': use milliseconds or a string like '250ms', "
        "'1.5s', '2m'",
        "t.yaml:19:5: steps[3]: a step needs exactly one of: request, set, sleep, include",
    ]


def test_wrong_types() -> None:
    text = """
    name: [a]
    tags: oops
    steps:
      - request: {url: x, follow_redirects: maybe}
        retry: {attempts: 0}
    """
    assert problems(text) == [
        "t.yaml:2:7: name: Input should be a valid string, got a list",
        "t.yaml:3:7: tags: Input should be a valid list, got 'oops'",
        "t.yaml:5:41: steps[0].request.follow_redirects: Input should be a valid boolean, unable to "
        "interpret "
        "input, got 'maybe'",
        "t.yaml:6:23: steps[0].retry.attempts: Input should be greater than or equal to 1, got 0",
    ]


def test_bad_suite_positions() -> None:
    assert problems("suite: s\ntests: ['*', a]\nparallelism: 0\n") == [
        't.yaml:2:8: tests: "*" must be the only entry of tests',
        "t.yaml:3:14: parallelism: Input should be greater than or equal to 1, got 0",
    ]


def test_file_larger_than_one_mib_text() -> None:
    assert problems("name: t\n" + "#" * MAX_FILE_BYTES) == ["t.yaml:1:1: file is larger than 1 MiB"]


# --- files ------------------------------------------------------------------------------------------


def test_load_file_missing(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError) as caught:
        load_file(tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}:0:0: no such file or directory"


def test_load_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"name: t\n" + b"#" * MAX_FILE_BYTES)
    with pytest.raises(DefinitionError) as caught:
        load_file(path)
    assert str(caught.value) == f"{path}:1:1: file is larger than 1 MiB"


def test_load_file_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: t\nsteps: [{sleep: 1}]\ndescription: caf\xe9\n")
    with pytest.raises(DefinitionError) as caught:
        load_file(path)
    assert str(caught.value) == f"{path}:1:1: file is not valid UTF-8 (byte 0xe9 at line 3, column 17)"


def test_load_file_accepts_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfname: t\nsteps: [{sleep: 1}]\n")
    definition = load_file(path)
    assert isinstance(definition, TestCaseDefinition)
    assert definition.name == "t"


def test_load_paths_scans_folders_recursively_and_deterministically() -> None:
    loaded = load_paths([FIXTURES])
    assert [(path.name, case.name) for path, case in loaded.test_cases] == [
        ("full-featured.yaml", "create and fetch an order")
    ]
    assert [(path.name, suite.suite) for path, suite in loaded.suites] == [("suite.yml", "orders")]


def test_load_paths_ignores_other_files_hidden_folders_and_repeats(tmp_path: Path) -> None:
    write(tmp_path, "b.yaml", "name: b\nsteps: [{sleep: 1}]\n")
    write(tmp_path, "sub/a.yml", "name: a\nsteps: [{sleep: 1}]\n")
    write(tmp_path, "readme.md", "name: not yaml\n")
    write(tmp_path, ".git/c.yaml", "name: hidden\nsteps: [{sleep: 1}]\n")
    write(tmp_path, "other.yaml", "kind: Deployment\n")
    loaded = load_paths([tmp_path, tmp_path / "b.yaml"])
    assert [case.name for _, case in loaded.test_cases] == ["b", "a"]
    assert loaded.suites == []


def test_a_file_named_explicitly_is_loaded_whatever_its_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "case.txt", "name: t\nsteps: [{sleep: 5}]\n")
    loaded = load_paths([path])
    assert isinstance(loaded.test_cases[0][1].steps[0], SleepStep)


def test_load_paths_collects_the_issues_of_every_file(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "name: a\nsteps: [{sleepp: 1}]\n")
    write(tmp_path, "b.yaml", "name: [b\n")
    with pytest.raises(DefinitionError) as caught:
        load_paths([tmp_path, tmp_path / "missing"])
    assert [str(issue) for issue in caught.value.issues] == [
        f"{tmp_path / 'a.yaml'}:2:9: steps[0]: a step needs exactly one of: request, set, sleep, include",
        f"{tmp_path / 'b.yaml'}:2:1: did not find expected ',' or ']' (while parsing a flow "
        "sequence "
        "at line 1, column 7)",
        f"{tmp_path / 'missing'}:0:0: no such file or directory",
    ]


def test_duplicate_test_case_names_point_at_the_second_name(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "name: same\nsteps: [{sleep: 1}]\n")
    write(tmp_path, "b.yaml", "description: again\nname: same\nsteps: [{sleep: 1}]\n")
    with pytest.raises(DefinitionError) as caught:
        load_paths([tmp_path])
    assert str(caught.value) == f"{tmp_path / 'b.yaml'}:2:7: name: duplicate test case name 'same'"


def test_duplicate_suite_names(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "suite: s\ntests: ['*']\n")
    write(tmp_path, "b.yaml", "suite: s\ntests: ['*']\n")
    with pytest.raises(DefinitionError) as caught:
        load_paths([tmp_path])
    assert str(caught.value) == f"{tmp_path / 'b.yaml'}:1:8: suite: duplicate suite name 's'"


def test_suite_references_must_be_loaded(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "name: a\nsteps: [{sleep: 1}]\n")
    write(tmp_path, "suite.yaml", "suite: s\ntests:\n  - a\n  - b\n")
    with pytest.raises(DefinitionError) as caught:
        load_paths([tmp_path])
    assert str(caught.value) == f"{tmp_path / 'suite.yaml'}:4:5: tests[1]: unknown test case 'b'"


def test_suite_references_are_not_checked_when_a_file_is_broken(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "name: a\nsteps: []\n")
    write(tmp_path, "suite.yaml", "suite: s\ntests: [a]\n")
    with pytest.raises(DefinitionError) as caught:
        load_paths([tmp_path])
    assert [issue.message for issue in caught.value.issues] == ["List should have at least 1 item, not 0"]


def test_load_paths_of_nothing() -> None:
    assert load_paths([]) == LoadedDefinitions([], [])


# --- JSON from the API -------------------------------------------------------------------------------------


def test_validate_test_case_data() -> None:
    definition = validate_test_case_data({"name": "t", "steps": [{"set": {"a": "{{ 1 }}"}}]})
    assert definition.name == "t"


def test_validate_test_case_data_issues_have_paths_but_no_positions() -> None:
    with pytest.raises(DefinitionError) as caught:
        validate_test_case_data(
            {"name": "t", "steps": [{"request": {"url": "u", "method": "GET"}, "expect": {"statuss": 200}}]}
        )
    assert caught.value.issues == [
        DefinitionIssue(
            "<request>", 0, 0, "steps[0].expect", "unknown key 'statuss' (did you mean 'status'?)"
        )
    ]


@pytest.mark.parametrize("data", [None, [], "name: t"])
def test_validate_data_needs_an_object(data: Any) -> None:
    with pytest.raises(DefinitionError) as caught:
        validate_test_case_data(data)
    assert str(caught.value) == "<request>:0:0: a test case must be a JSON object"
    with pytest.raises(DefinitionError) as caught:
        validate_suite_data(data)
    assert str(caught.value) == "<request>:0:0: a suite must be a JSON object"


def test_validate_suite_data() -> None:
    assert validate_suite_data({"suite": "s", "tests": ["a"]}).tests == ["a"]
    with pytest.raises(DefinitionError) as caught:
        validate_suite_data({"suite": "s", "tests": ["a", 5]})
    assert str(caught.value) == "<request>:0:0: tests[1]: Input should be a valid string, got 5"


YAML_FRAGMENTS = [
    *["name: t\n", "steps:\n", "suite: s\n", "tests: [a]\n", "  - ", "    ", "\n", ": ", ", ", "- "],
    *["request: ", "{url: x}", "url: x", "expect: ", "status: ", "200", "2xx", "json: ", "$.a", "set: "],
    *["sleep: ", "1s", "capture: ", "{json: $.a}", "matches: (", "type: ", "&a ", "*a", "[", "]", "{", "}"],
    *[
        "'",
        '"',
        "#",
        "!!int ",
        "!x ",
        "? ",
        "|\n",
        ">",
        "~",
        "null",
        "true",
        "1.5",
        "x",
        "\t",
        "\u00e9",
        "\x00",
    ],
]


def test_random_yaml_gives_a_definition_none_or_positioned_issues() -> None:
    """Hostile input never escapes as anything but DefinitionError, and every issue has a position.

    Seeded random fragments rather than hypothesis, so the run leaves no example database behind.
    """
    generator = random.Random(20_261_128)
    for _ in range(1000):
        text = "".join(generator.choices(YAML_FRAGMENTS, k=generator.randint(0, 30)))
        issues: list[DefinitionIssue] = []
        try:
            parse_document(text, "fuzz.yaml")
        except DefinitionError as error:
            issues = error.issues or [DefinitionIssue("fuzz.yaml", 0, 0, "", "an error without issues")]
        assert all(issue.line >= 1 and issue.column >= 1 for issue in issues), (text, issues)
