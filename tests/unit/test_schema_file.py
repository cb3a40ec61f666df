"""The committed JSON Schemas match the models, and pydantic and the schemas agree on what is valid."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from orchestra.definitions import schema_export
from orchestra.definitions.loader import DefinitionError, load_file, parse_document
from orchestra.definitions.schema_export import SUITE_SCHEMA_FILE, TESTCASE_SCHEMA_FILE, schema_text
from orchestra.definitions.testcase_model import SuiteDefinition, TestCaseDefinition

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").rglob("*.y*ml")) if (REPO / "examples").is_dir() else []
FIXTURES = sorted((REPO / "tests" / "fixtures" / "definitions").rglob("*.y*ml"))


def validator(path: Path) -> Draft202012Validator:
    return Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("path", "generate"),
    [
        (TESTCASE_SCHEMA_FILE, schema_export.testcase_json_schema),
        (SUITE_SCHEMA_FILE, schema_export.suite_json_schema),
    ],
)
def test_committed_schema_files_are_up_to_date(path: Path, generate: Any) -> None:
    assert path.read_text(encoding="utf-8") == schema_text(generate()), (
        f"{path.name} is stale: run `python -m orchestra.definitions.schema_export`"
    )


def test_schemas_are_valid_draft_2020_12_with_identity() -> None:
    for schema, schema_id in (
        (schema_export.testcase_json_schema(), "https://orchestra.dev/schemas/testcase.json"),
        (schema_export.suite_json_schema(), "https://orchestra.dev/schemas/suite.json"),
    ):
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"] == schema_id
        assert schema["title"].startswith("Orchestra ")


def definition_files() -> list[Path]:
    return [*EXAMPLES, *FIXTURES]


@pytest.mark.parametrize("path", definition_files(), ids=lambda path: path.name)
def test_example_and_fixture_definitions_validate_against_the_schema_files(path: Path) -> None:
    definition = load_file(path)
    if definition is None:
        pytest.skip("not a test definition")
    schema_file = TESTCASE_SCHEMA_FILE if isinstance(definition, TestCaseDefinition) else SUITE_SCHEMA_FILE
    errors = [
        f"{error.json_path}: {error.message}"
        for error in validator(schema_file).iter_errors(yaml.safe_load(path.read_text()))
    ]
    assert errors == []


def test_there_are_examples_or_the_example_check_is_skipped() -> None:
    if not [path for path in EXAMPLES if isinstance(load_file(path), TestCaseDefinition)]:
        pytest.skip("examples/ has no test cases yet")


VALID = [
    "name: t\nsteps: [{sleep: 1}]\n",
    "name: t\nsteps: [{request: {url: x, method: delete}, expect: {status: [200, 204], body: null}}]\n",
    "name: t\nsteps: "
    "[{request: {url: x}, expect: {json: {$.a: {length: {gte: 1}}, $.b: {type: x, id: 1}}}}]\n",
    "name: t\nsteps: [{request: {url: x, json: null}, capture: {a: $.a, b: {header: X, default: null}}}]\n",
    "name: t\nsteps: [{set: {a: 1}}, {sleep: 1.5s}]\nvariables: {x: 1}\ndata: {requires: a, more: 1}\n",
    "name: t\non_failure: continue\non_error: stop\nstatus_gates: false\nsteps: "
    "[{request: {url: x}, on_failure: stop, on_error: continue, status_gates: true}]\n",
    "name: t\nsteps: [{request: {url: x}, expect: {json: "
    "[{path: $.a, contains: x}, {path: $.a, length: {gte: 1}, name: some}]}}]\n",
]

INVALID = [
    "steps: [{sleep: 1}]\n",  # no name
    "name: t\nsteps: []\n",  # no step
    "name: t\nsteps: [{sleep: 1}]\nowner: me\n",  # unknown key
    "name: t\nsteps: [{request: {url: x}, sleep: 1}]\n",  # two kinds in one step
    "name: t\nsteps: [{name: only a name}]\n",  # no kind
    "name: t\nsteps: [{request: {method: GET}}]\n",  # no url
    "name: t\nsteps: [{request: {url: x, method: FETCH}}]\n",
    "name: t\nsteps: [{request: {url: x}, expect: {status: 700}}]\n",
    "name: t\nsteps: [{request: {url: x}, expect: {status: 2xxx}}]\n",
    "name: t\nsteps: [{request: {url: x}, expect: {status: {min: 200}}}]\n",
    "name: t\nsteps: [{request: {url: x}, expect: {json: {$.a: {type: float}}}}]\n",
    "name: t\nsteps: [{request: {url: x}, expect: {json: {$.a: {exists: maybe}}}}]\n",
    "name: t\nsteps: [{request: {url: x}, capture: {a: {json: $.a, header: X}}}]\n",
    "name: t\nsteps: [{request: {url: x}, capture: {env: $.a}}]\n",
    "name: t\nsteps: [{request: {url: x}, capture: {order-id: $.a}}]\n",
    "name: t\nsteps: [{request: {url: x}, retry: {attempts: 0}}]\n",
    "name: t\nsteps: [{sleep: abc}]\n",
    "name: t\nsteps: [{sleep: true}]\n",
    "name: t\nsteps: [{set: {}}]\n",
    "name: t\ntimeout_s: 0\nsteps: [{sleep: 1}]\n",
    "name: t\non_failure: go\nsteps: [{sleep: 1}]\n",
    "name: t\nstatus_gates: 'yes'\nsteps: [{sleep: 1}]\n",
    "name: t\nsteps: [{request: {url: x}, on_error: never}]\n",
    "name: t\nsteps: [{sleep: 1, on_failure: continue}]\n",
    "name: t\nsteps: [{request: {url: x}, expect: {json: [{contains: a}]}}]\n",  # no path
    "name: t\nsteps: [{request: {url: x}, expect: {json: [{path: $.a}]}}]\n",  # no matcher key
    "name: t\nsteps: [{request: {url: x}, expect: {json: [{path: $.a, name: n}]}}]\n",
    "name: t\nsteps: [{request: {url: x}, expect: {json: [{path: $.a, equals: 1, name: ''}]}}]\n",
    "name: t\nsteps: [{request: {url: x}, expect: {json: [{path: $.a, equals: 1, nme: x}]}}]\n",
    "name: t\nsteps: [{request: {url: x}, expect: {json: [$.a]}}]\n",
    "name: t\nsteps: [{request: {url: x}, expect: {json: 5}}]\n",
]


@pytest.mark.parametrize("text", VALID)
def test_pydantic_and_the_schema_accept_the_same_documents(text: str) -> None:
    assert isinstance(parse_document(text, "t.yaml"), TestCaseDefinition)
    assert list(validator(TESTCASE_SCHEMA_FILE).iter_errors(yaml.safe_load(text))) == []


@pytest.mark.parametrize("text", INVALID)
def test_pydantic_and_the_schema_reject_the_same_documents(text: str) -> None:
    with pytest.raises(DefinitionError):
        parse_document(text, "t.yaml")
    assert list(validator(TESTCASE_SCHEMA_FILE).iter_errors(yaml.safe_load(text))) != []


@pytest.mark.parametrize(
    "text",
    [
        "suite: s\ntests: []\n",
        "suite: s\ntests: [a]\nparallelism: 0\n",
        "suite: ''\ntests: [a]\n",
        "suite: s\ntests: [a]\nowner: me\n",
    ],
)
def test_invalid_suites_are_rejected_by_both(text: str) -> None:
    with pytest.raises(DefinitionError):
        parse_document(text, "s.yaml")
    assert list(validator(SUITE_SCHEMA_FILE).iter_errors(yaml.safe_load(text))) != []


def test_valid_suite_is_accepted_by_both() -> None:
    text = textwrap.dedent(
        """
        suite: smoke
        project: shop
        variables: {region: eu}
        tests: [a, b]
        parallelism: 4
        """
    )
    assert isinstance(parse_document(text, "s.yaml"), SuiteDefinition)
    assert list(validator(SUITE_SCHEMA_FILE).iter_errors(yaml.safe_load(text))) == []
