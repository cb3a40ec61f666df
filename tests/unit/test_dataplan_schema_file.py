"""The committed DataPlan JSON Schema matches the models, and accepts what the models accept."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from orchestra.definitions.schema_export import schema_text
from orchestra.testdata.plans.dataplan_model import DataPlan, dataplan_json_schema
from orchestra.testdata.plans.dataplan_schema import DATAPLAN_SCHEMA_FILE


def test_committed_dataplan_schema_is_up_to_date() -> None:
    assert DATAPLAN_SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(dataplan_json_schema()), (
        "dataplan.schema.json is stale: run `python -m orchestra.testdata.plans.dataplan_schema`"
    )


def test_the_schema_and_the_model_agree_on_a_full_plan() -> None:
    plan = {
        "version": 1,
        "seed": 3,
        "notes": ["n"],
        "defaults": {"headers": {"Authorization": "Bearer {{ data.auth.access_token }}"}},
        "bindings": {
            "auth": {"call": {"operation": "issueToken", "body": {"username": "{{ env.u }}"}}},
            "fields": {"generate": {"schema": {"type": "object"}}},
            "name": {"generate": {"faker": "company", "faker_args": {}}},
            "customer": {
                "call": {
                    "operation": "createCustomer",
                    "body": "{{ data.fields }}",
                    "expect_status": [201],
                    "capture": {"id": "$.id"},
                },
                "cleanup": {"operation": "deleteCustomer", "path": {"customerId": "{{ self.id }}"}},
            },
            "first": {"lookup": {"operation": "listItems", "select": "$[0]"}},
            "constant": {"value": None},
        },
    }
    schema = json.loads(DATAPLAN_SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert list(Draft202012Validator(schema).iter_errors(plan)) == []
    DataPlan.model_validate(plan)
    assert list(Draft202012Validator(schema).iter_errors({**plan, "version": 2}))
