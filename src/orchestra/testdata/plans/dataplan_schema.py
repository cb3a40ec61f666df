"""The published JSON Schema of the DataPlan format, generated from the pydantic models.

``python -m orchestra.testdata.plans.dataplan_schema`` rewrites ``orchestra/schemas/dataplan.schema.json``;
a unit test fails when the committed file drifts from the models.
"""

from __future__ import annotations

from pathlib import Path

from orchestra.definitions.schema_export import SCHEMAS_DIR, schema_text
from orchestra.testdata.plans.dataplan_model import dataplan_json_schema

DATAPLAN_SCHEMA_FILE = SCHEMAS_DIR / "dataplan.schema.json"


def write_schema_file() -> Path:
    SCHEMAS_DIR.mkdir(parents=True, exist_ok=True)
    DATAPLAN_SCHEMA_FILE.write_text(schema_text(dataplan_json_schema()), encoding="utf-8")
    return DATAPLAN_SCHEMA_FILE


if __name__ == "__main__":
    write_schema_file()
