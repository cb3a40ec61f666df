"""JSON Schemas of the YAML format, generated from the pydantic models, for editors and external tools.

``python -m orchestra.definitions.schema_export`` rewrites the committed copies in ``orchestra/schemas``;
a unit test fails when they drift from the models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from orchestra.definitions.testcase_model import SuiteDefinition, TestCaseDefinition

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"
TESTCASE_SCHEMA_FILE = SCHEMAS_DIR / "testcase.schema.json"
SUITE_SCHEMA_FILE = SCHEMAS_DIR / "suite.schema.json"


def _schema(model: type[BaseModel], schema_id: str, title: str) -> dict[str, Any]:
    generated = model.model_json_schema(by_alias=True)
    return {"$schema": SCHEMA_DIALECT, "$id": schema_id, **generated, "title": title}


def testcase_json_schema() -> dict[str, Any]:
    return _schema(TestCaseDefinition, "https://orchestra.dev/schemas/testcase.json", "Orchestra test case")


def suite_json_schema() -> dict[str, Any]:
    return _schema(SuiteDefinition, "https://orchestra.dev/schemas/suite.json", "Orchestra suite")


def schema_text(schema: dict[str, Any]) -> str:
    """The committed file format: pretty, sorted keys, trailing newline (stable diffs)."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schema_files() -> list[Path]:
    SCHEMAS_DIR.mkdir(parents=True, exist_ok=True)
    TESTCASE_SCHEMA_FILE.write_text(schema_text(testcase_json_schema()), encoding="utf-8")
    SUITE_SCHEMA_FILE.write_text(schema_text(suite_json_schema()), encoding="utf-8")
    return [TESTCASE_SCHEMA_FILE, SUITE_SCHEMA_FILE]


if __name__ == "__main__":
    write_schema_files()
