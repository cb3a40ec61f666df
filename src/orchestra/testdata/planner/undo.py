"""What a plan makes that has to be undone, and what a plan would leave behind: the rules the built-in
planner follows, and that any plan (a language model's, a person's) is held to before it runs."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from orchestra.openapi.operations import Catalogue, Operation
from orchestra.testdata.planner.actions import acts_on
from orchestra.testdata.planner.entities import (
    is_collection_post,
    is_collection_put,
    is_query_post,
    token_field,
    undoer_of,
)
from orchestra.testdata.planner.login import signs_in
from orchestra.testdata.plans.dataplan_model import DataPlan

_DATA_REFERENCE = re.compile(r"\{\{\s*data\.([A-Za-z_][A-Za-z0-9_]*)")
LEFTOVERS_HINT = "set data.leftovers: true in the test case to allow that"


# A PUT on a collection creates (create-or-replace) when it says so; otherwise (``PUT /pet``, "Update an
# existing pet") it updates an item its body names.
_CREATION_WORDS = re.compile(r"(?i:creat|upsert|regist)|\b[Aa]dd(?![a-z])")  # addPet, not address


def creates(catalogue: Catalogue, operation: Operation) -> bool:
    """Whether calling ``operation`` makes something that has to be undone: a POST on a collection, an
    action or a sub-resource (``POST /articles/{slug}/favorite``), or a PUT without a body that a DELETE on
    its path takes back (``PUT /user/starred/{repo}``). A log-in, a token request or a POST that reads or
    checks (``POST /search``) creates nothing."""
    if operation.method == "PUT":
        if is_collection_put(catalogue, operation):  # PUT /saved_searches/ named as a creation
            return _CREATION_WORDS.search(f"{operation.operation_id} {operation.summary}") is not None
        return operation.request_schema is None and undoer_of(catalogue, operation) is not None
    if not is_collection_post(operation) or token_field(operation) is not None:
        return False
    return not (signs_in(operation) or is_query_post(operation))


def left_behind(plan: DataPlan, catalogue: Catalogue) -> list[str]:
    """The calls of any plan (a language model's, a person's) that make something and have no cleanup to
    undo it, one line each: what would be left in the SUT without anyone having allowed it."""
    undone = {name for name, binding in plan.bindings.items() if binding.cleanup is not None}
    found: list[str] = []
    for name, binding in plan.bindings.items():
        call = binding.call
        operation = catalogue.get(call.operation) if call is not None else None
        if call is None or operation is None or binding.cleanup is not None:
            continue
        if not creates(catalogue, operation):
            continue
        if call.path and refer_to(call.path, undone):
            continue  # it belongs to what the plan creates and deletes (a comment of a created article)
        if acts_on(catalogue, operation, call.body, undone):
            continue  # an action on what its body names, all made and deleted by the plan (an increment)
        found.append(f"bindings.{name}: {operation.operation_id} creates something and has no cleanup")
    return found


def refer_to(values: Mapping[str, Any], names: Collection[str]) -> bool:
    """Whether every value is a template of a field of one of the bindings ``names``."""
    return all(
        isinstance(value, str) and bool(found := _DATA_REFERENCE.findall(value)) and set(found) <= set(names)
        for value in values.values()
    )
