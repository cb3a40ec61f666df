"""``/v1/suggest``: test cases for one operation of the SUT. The deterministic ones come from the operation's
description (happy path, a required field missing, a wrong type, no credentials); a model may add more.
Every suggestion returned is a definition ``validate_test_case_data`` accepts; anything else is dropped with
a note."""

from __future__ import annotations

import copy
import re
from typing import Any

import structlog

from orchestra.ai.api_tools import ApiTools
from orchestra.ai.model_tools import cut
from orchestra.ai.ollama_chat import ModelClient, ModelUnavailable, parse_json_object
from orchestra.ai.planning import load_catalogue
from orchestra.ai.prompts import SUGGEST_SYSTEM
from orchestra.ai_client.messages import SuggestRequest, SuggestResponse
from orchestra.definitions.loader import DefinitionError, validate_test_case_data
from orchestra.definitions.testcase_model import DataRequirements
from orchestra.errors import NotFound
from orchestra.openapi.operations import Catalogue, Operation
from orchestra.testdata.planner.builtin import PlanRefused, plan_for
from orchestra.testdata.planner.entities import deleter_of, id_field, is_collection_post
from orchestra.testdata.values.generator import GeneratorError, ValueGenerator
from orchestra.testdata.values.json_schemas import to_json_schema
from orchestra.testdata.values.name_hints import snake

log = structlog.get_logger(__name__)
MAX_MODEL_CASES = 10
SUGGESTION_SEED = 0
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WRONG_TYPE = {"string": 12345, "integer": "not-a-number", "number": "not-a-number", "boolean": "yes"}
SUGGEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"test_cases": {"type": "array", "items": {"type": "object"}}},
    "required": ["test_cases"],
}


def credentials(
    operation: Operation, catalogue: Catalogue, environment: dict[str, Any]
) -> tuple[dict[str, str], list[str]]:
    """The headers that authenticate the test's own calls: the same the built-in planner gives the plan's
    calls (a secret, a variable, or the token of the SUT's login operation as ``data.auth…``), so a
    suggestion runs as it is when the plan does."""
    if not operation.security:
        return {}, []
    try:
        plan = plan_for(
            DataRequirements(operations=[operation.operation_id]),
            catalogue,
            environment=dict(environment.get("variables") or {}),
            secret_names=list(environment.get("secret_names") or []),
            seed=SUGGESTION_SEED,
        )
    except PlanRefused as refused:
        return {"Authorization": "Bearer {{ secrets.token }}"}, [
            f"The built-in planner {refused}; the suggestions send Authorization: Bearer "
            "{{ secrets.token }}; adjust the header."
        ]
    if plan.defaults.headers:
        return dict(plan.defaults.headers), []
    return {"Authorization": "Bearer {{ secrets.token }}"}, [
        "No credentials were found for the secured operation: the suggestions send Authorization: Bearer "
        "{{ secrets.token }}; add that secret or adjust the header."
    ]


class _Builder:
    """Definitions for one operation; values are generated with a fixed seed so suggestions are stable."""

    def __init__(self, operation: Operation, catalogue: Catalogue, auth_headers: dict[str, str]) -> None:
        self.op = operation
        self.catalogue = catalogue
        self.auth_headers = auth_headers
        self.values = ValueGenerator(SUGGESTION_SEED, operation.operation_id)

    def _generated(self, schema: dict[str, Any] | None, name: str) -> Any:
        try:
            return self.values.for_schema(schema or {"type": "string"}, name=name)
        except GeneratorError:
            return "example"

    def data(self, *members: str) -> str:
        """A template of the plan's inputs for this operation (the built-in planner's
        ``data.<operation_id in snake case>`` = ``{path, query, body}``)."""
        return "{{ data" + "".join(_member(m) for m in (snake(self.op.operation_id), *members)) + " }}"

    def url(self, *, planned: bool = False) -> str:
        def fill(match: re.Match[str]) -> str:
            if planned:
                return self.data("path", match.group(1))
            parameter = self.op.parameter(match.group(1), "path")
            return str(self._generated(parameter.schema if parameter else None, match.group(1)))

        return "{{ env.base_url }}" + re.sub(r"\{([^}]+)\}", fill, self.op.path)

    def body(self) -> Any:
        if self.op.request_schema is None:
            return None
        return self._generated(self.op.request_schema, "body")

    def request(
        self, *, body: Any = None, authenticated: bool = True, planned: bool = False
    ) -> dict[str, Any]:
        request: dict[str, Any] = {"method": self.op.method, "url": self.url(planned=planned)}
        if self.op.security and authenticated:
            request["headers"] = dict(self.auth_headers)
        if body is not None:
            request["json"] = body
        return request

    def case(
        self, suffix: str, description: str, request: dict[str, Any], expect: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "name": f"{self.op.operation_id} {suffix}"[:200],
            "description": description,
            "tags": ["suggested", self.op.operation_id[:50]],
            "data": {"operations": [self.op.operation_id]},
            "steps": [{"name": description, "request": request, "expect": expect}],
        }

    def happy_path(self) -> dict[str, Any]:
        expect: dict[str, Any] = {"status": _success_status(self.op)}
        schema = self.op.success_schema()
        if schema:
            expect["schema"] = to_json_schema(schema)
        body = self.data("body") if self.op.request_schema is not None else None
        request = self.request(body=body, planned=True)
        case = self.case("happy path", f"{self.op.method} {self.op.path} succeeds", request, expect)
        cleanup = self.cleanup()
        if cleanup is not None:
            case["steps"][0]["cleanup"] = cleanup
        return case

    def cleanup(self) -> dict[str, Any] | None:
        """What undoes the entity the happy path creates: the DELETE of its item path, by its id."""
        found = deleter_of(self.catalogue, self.op) if is_collection_post(self.op) else None
        if found is None:
            return None
        deleter, parameter = found
        url = deleter.path.replace(f"{{{parameter}}}", f"{{{{ response.body.{id_field(self.op)} }}}}")
        cleanup: dict[str, Any] = {"method": "DELETE", "url": url}
        if deleter.security and self.auth_headers:
            cleanup["headers"] = dict(self.auth_headers)
        return cleanup

    def missing_required(self) -> dict[str, Any] | None:
        body = self.body()
        required = (self.op.request_schema or {}).get("required") or []
        if not isinstance(body, dict) or not required or required[0] not in body:
            return None
        field = str(required[0])
        without = {k: v for k, v in body.items() if k != field}
        return self.case(
            f"without {field}", f"{field} is required", self.request(body=without), {"status": "4xx"}
        )

    def wrong_type(self) -> dict[str, Any] | None:
        body = self.body()
        properties = (self.op.request_schema or {}).get("properties") or {}
        if not isinstance(body, dict):
            return None
        for field, schema in properties.items():
            wrong = _WRONG_TYPE.get(str((schema or {}).get("type")))
            if field in body and wrong is not None:
                changed = copy.deepcopy(body)
                changed[field] = wrong
                return self.case(
                    f"with a wrong {field}",
                    f"{field} of the wrong type is refused",
                    self.request(body=changed),
                    {"status": "4xx"},
                )
        return None

    def unauthenticated(self) -> dict[str, Any] | None:
        if not self.op.security:
            return None
        return self.case(
            "without credentials",
            "calls without credentials are refused",
            self.request(body=self.body(), authenticated=False),
            {"status": 401},
        )


def _member(name: str) -> str:
    return f".{name}" if _IDENTIFIER.match(name) else f"[{name!r}]"


def _success_status(operation: Operation) -> int | str:
    for code in operation.success_statuses():
        if code.isdigit():
            return int(code)
    return "2xx"


def valid_definitions(candidates: list[Any], notes: list[str], origin: str) -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = []
    for candidate in candidates:
        try:
            validate_test_case_data(candidate)
        except DefinitionError as error:
            name = candidate.get("name") if isinstance(candidate, dict) else None
            notes.append(f"dropped a {origin} suggestion {str(name)[:100]!r}: {cut(str(error), 300)}")
            continue
        kept.append(candidate)
    return kept


def deterministic_cases(
    operation: Operation, catalogue: Catalogue, environment: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The built-in suggestions and notes on them; ``environment`` as the environment tool returns it."""
    headers, notes = credentials(operation, catalogue, environment)
    builder = _Builder(operation, catalogue, headers)
    made = [builder.happy_path(), builder.missing_required(), builder.wrong_type(), builder.unauthenticated()]
    return [case for case in made if case is not None], notes


async def _model_cases(model: ModelClient, operation: Operation, known: list[dict[str, Any]]) -> list[Any]:
    messages = [
        {"role": "system", "content": SUGGEST_SYSTEM},
        {
            "role": "user",
            "content": f"Operation:\n{cut(operation.to_json(), 6000)}\n"
            f"Already suggested:\n{cut(known, 6000)}\n"
            "Add test cases that cover other behaviour of this operation.",
        },
    ]
    reply = await model.chat(messages, format=SUGGEST_SCHEMA)
    answer = parse_json_object(reply.content) or {}
    cases = answer.get("test_cases")
    return list(cases[:MAX_MODEL_CASES]) if isinstance(cases, list) else []


async def suggest(request: SuggestRequest, api: ApiTools, model: ModelClient | None) -> SuggestResponse:
    catalogue = await load_catalogue(api, request.environment_id)
    operation = catalogue.get(request.operation_id)
    if operation is None:
        raise NotFound(f"the SUT has no operation {request.operation_id!r}")
    environment = await api.environment(request.environment_id)
    built, notes = deterministic_cases(operation, catalogue, environment)
    cases = valid_definitions(built, notes, "built-in")
    used_model: str | None = None
    if model is not None:
        try:
            proposed = await _model_cases(model, operation, cases)
        except ModelUnavailable as error:
            notes.append(f"{error}; only the built-in suggestions are given.")
        else:
            names = {case["name"] for case in cases}
            added = [c for c in valid_definitions(proposed, notes, "model") if c.get("name") not in names]
            cases += added
            used_model = model.model if added else None
    return SuggestResponse(
        operation_id=operation.operation_id, test_cases=cases, notes=notes, model=used_model
    )
