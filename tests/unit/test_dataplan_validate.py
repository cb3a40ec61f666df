"""Every validation code, with its exact message, on a hand-built catalogue; and parse_plan's errors."""

from __future__ import annotations

import time
from typing import Any

import pytest

from orchestra.kit.egress import EgressPolicy
from orchestra.openapi.operations import Catalogue, Operation, Parameter, SecurityScheme
from orchestra.testdata.plans.dataplan_model import DataPlan
from orchestra.testdata.plans.plan_problems import PlanProblem
from orchestra.testdata.plans.validate import parse_plan, validate_plan

CUSTOMER = {
    "type": "object",
    "title": "CustomerCreate",
    "required": ["name", "email"],
    "properties": {
        "id": {"type": "string", "readOnly": True},
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "email": {"type": "string", "format": "email"},
        "tier": {"type": "string", "enum": ["basic", "gold", "platinum"]},
    },
    "additionalProperties": False,
}
ORDER = {
    "type": "object",
    "required": ["customerId", "quantity"],
    "properties": {
        "customerId": {"type": "string"},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 100},
        "note": {"type": "string", "nullable": True},
    },
}
ENTITY = {"type": "object", "properties": {"id": {"type": "string"}}}


def shop_catalogue() -> Catalogue:
    """A small shop: customers, orders (referring to customers), items, and a token endpoint."""
    bearer = ("bearerAuth",)
    customer_id = Parameter("customerId", "path", True, {"type": "string"})
    operations = [
        Operation(
            "issueToken",
            "POST",
            "/auth/token",
            request_schema={
                "type": "object",
                "required": ["username", "password"],
                "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
            },
            request_body_required=True,
            responses={"200": {"type": "object", "properties": {"access_token": {"type": "string"}}}},
        ),
        Operation(
            "createCustomer",
            "POST",
            "/customers",
            tags=("customers",),
            request_schema=CUSTOMER,
            request_body_required=True,
            responses={"201": {**ENTITY, "title": "Customer"}},
            security=bearer,
        ),
        Operation(
            "getCustomer",
            "GET",
            "/customers/{customerId}",
            parameters=(customer_id, Parameter("expand", "query", False, {"type": "boolean"})),
            responses={"200": ENTITY},
            security=bearer,
        ),
        Operation(
            "deleteCustomer", "DELETE", "/customers/{customerId}", parameters=(customer_id,), security=bearer
        ),
        Operation(
            "createOrder",
            "POST",
            "/orders",
            request_schema=ORDER,
            request_body_required=True,
            responses={"201": ENTITY},
            security=bearer,
        ),
        Operation(
            "deleteOrder",
            "DELETE",
            "/orders/{orderId}",
            parameters=(Parameter("orderId", "path", True, {"type": "string"}),),
            security=bearer,
        ),
        Operation(
            "listItems",
            "GET",
            "/items",
            parameters=(
                Parameter("page", "query", True, {"type": "integer", "minimum": 1}),
                Parameter("X-Region", "header", True, {"type": "string"}),
            ),
            responses={"200": {"type": "array", "items": ENTITY}},
        ),
    ]
    return Catalogue(
        title="Shop",
        spec_hash="0" * 64,
        operations={op.operation_id: op for op in operations},
        security_schemes={"bearerAuth": SecurityScheme("bearerAuth", "http", scheme="bearer")},
    )


CATALOGUE = shop_catalogue()
POLICY = EgressPolicy.for_environment("https://shop.example.com", ["*.cdn.example.com"], allow_private=False)
CUSTOMER_BODY = {"name": "Ada", "email": "ada@example.com"}
GOOD: dict[str, Any] = {
    "seed": 1,
    "defaults": {"headers": {"Authorization": "Bearer {{ data.auth.access_token }}"}},
    "bindings": {
        "auth": {
            "call": {
                "operation": "issueToken",
                "body": {"username": "{{ env.user }}", "password": "{{ secrets.pw }}"},
            }
        },
        "fields": {"generate": {"schema": CUSTOMER}},
        "customer": {
            "call": {
                "operation": "createCustomer",
                "body": {"name": "{{ data.fields.name }}", "email": "{{ data.fields.email }}"},
            },
            "cleanup": {"operation": "deleteCustomer", "path": {"customerId": "{{ self.id }}"}},
        },
        "order": {
            "call": {
                "operation": "createOrder",
                "body": {"customerId": "{{ data.customer.id }}", "quantity": 2},
                "capture": {"id": "$.id", "where": "header:Location", "code": "status"},
            },
            "cleanup": {"operation": "deleteOrder", "path": {"orderId": "{{ self.id }}"}},
        },
        "items": {
            "lookup": {
                "operation": "listItems",
                "query": {"page": 1},
                "headers": {"X-Region": "eu"},
                "select": "$[0]",
            }
        },
        "name": {"generate": {"faker": "company"}},
        "constant": {"value": {"n": "{{ data.name }}"}},
    },
}


def problems_of(changes: dict[str, Any], policy: EgressPolicy | None = POLICY) -> list[PlanProblem]:
    data = {**GOOD, "bindings": {**GOOD["bindings"], **changes}}
    plan = DataPlan.model_validate(data)
    return validate_plan(plan, CATALOGUE, policy)


def only(problems: list[PlanProblem]) -> PlanProblem:
    assert len(problems) == 1, problems
    return problems[0]


def test_a_good_plan_has_no_problems() -> None:
    assert validate_plan(DataPlan.model_validate(GOOD), CATALOGUE, POLICY) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"x": {"call": {"operation": "createCustomr", "body": CUSTOMER_BODY}}},
            PlanProblem(
                "bindings.x.call.operation",
                "unknown_operation",
                "operation 'createCustomr' is not in the API description "
                "(close matches: createCustomer, getCustomer, deleteCustomer)",
            ),
        ),
        (
            {"x": {"call": {"operation": "fly", "body": CUSTOMER_BODY}}},
            PlanProblem(
                "bindings.x.call.operation",
                "unknown_operation",
                "operation 'fly' is not in the API description (no close match)",
            ),
        ),
        (
            {"x": {"lookup": {"operation": "getCustomer"}}},
            PlanProblem(
                "bindings.x.lookup.path",
                "missing_parameter",
                "required path parameter 'customerId' of getCustomer is not given",
            ),
        ),
        (
            {"x": {"lookup": {"operation": "listItems", "headers": {"x-region": "eu"}}}},
            PlanProblem(
                "bindings.x.lookup.query",
                "missing_parameter",
                "required query parameter 'page' of listItems is not given",
            ),
        ),
        (
            {"x": {"lookup": {"operation": "listItems", "query": {"page": 1}}}},
            PlanProblem(
                "bindings.x.lookup.header",
                "missing_parameter",
                "required header parameter 'X-Region' of listItems is not given",
            ),
        ),
        (
            {
                "x": {
                    "lookup": {
                        "operation": "getCustomer",
                        "path": {"customerId": "1"},
                        "query": {"expnad": True},
                    }
                }
            },
            PlanProblem(
                "bindings.x.lookup.query.expnad",
                "unknown_parameter",
                "getCustomer has no query parameter 'expnad' (it has: expand)",
            ),
        ),
        (
            {"x": {"call": {"operation": "createCustomer", "body": {"name": "", "email": "a@b.co"}}}},
            PlanProblem("bindings.x.call.body", "body_invalid", "/name: '' should be non-empty"),
        ),
        (
            {"x": {"call": {"operation": "createCustomer", "body": {"email": "{{ data.name }}"}}}},
            PlanProblem("bindings.x.call.body", "body_invalid", "/: 'name' is a required property"),
        ),
        (
            {"x": {"call": {"operation": "createCustomer", "body": {**CUSTOMER_BODY, "tier": "bronze"}}}},
            PlanProblem(
                "bindings.x.call.body",
                "body_invalid",
                "/tier: 'bronze' is not one of ['basic', 'gold', 'platinum']",
            ),
        ),
        (
            {"x": {"call": {"operation": "createCustomer"}}},
            PlanProblem("bindings.x.call.body", "body_missing", "createCustomer requires a JSON body"),
        ),
        (
            {"x": {"lookup": {"operation": "getCustomer", "path": {"customerId": "1"}, "body": {"a": 1}}}},
            PlanProblem("bindings.x.lookup.body", "unexpected_body", "getCustomer takes no JSON body"),
        ),
        (
            {"x": {"value": "{{ data.nobody }}"}},
            PlanProblem(
                "bindings.x.value",
                "unresolved_reference",
                "data.nobody: no binding named 'nobody' (bindings: auth, constant, customer, fields, "
                "items, name, order, x)",
            ),
        ),
        (
            {"x": {"value": "{{ self.id }}"}},
            PlanProblem("bindings.x.value", "unresolved_reference", "'self' is only available in a cleanup"),
        ),
        (
            {"x": {"value": "{{ config.x }}"}},
            PlanProblem(
                "bindings.x.value",
                "unresolved_reference",
                "unknown name 'config' (use one of: data, env, run, secrets, vars)",
            ),
        ),
        (
            {"x": {"value": 1, "depends_on": ["ghost"]}},
            PlanProblem(
                "bindings.x.depends_on",
                "unresolved_reference",
                "data.ghost: no binding named 'ghost' (bindings: auth, constant, customer, fields, "
                "items, name, order, x)",
            ),
        ),
        (
            {"x": {"value": 1, "depends_on": ["x"]}},
            PlanProblem("bindings.x.depends_on", "self_dependency", "binding 'x' depends on itself"),
        ),
        (
            {"x": {"value": "{{ data.x }}"}},
            PlanProblem("bindings.x", "self_dependency", "binding 'x' uses its own value"),
        ),
        (
            {
                "x": {
                    "call": {
                        "operation": "createCustomer",
                        "body": CUSTOMER_BODY,
                        "headers": {"Callback": "https://evil.example.net/hook"},
                    }
                }
            },
            PlanProblem(
                "bindings.x.call.headers",
                "host_not_allowed",
                "host 'evil.example.net' is not allowed for the environment (allowed: shop.example.com, "
                "*.cdn.example.com)",
            ),
        ),
        (
            {
                "x": {
                    "call": {
                        "operation": "createCustomer",
                        "body": {**CUSTOMER_BODY, "name": "see http://169.254.169.254/x"},
                    }
                }
            },
            PlanProblem(
                "bindings.x.call",
                "host_not_allowed",
                "host '169.254.169.254' is not allowed for the environment (allowed: shop.example.com, "
                "*.cdn.example.com)",
            ),
        ),
        (
            {
                "x": {
                    "call": {
                        "operation": "createCustomer",
                        "body": CUSTOMER_BODY,
                        "headers": {"Host": "internal"},
                    }
                }
            },
            PlanProblem(
                "bindings.x.call.headers",
                "host_not_allowed",
                "host 'internal' is not allowed for the environment (allowed: shop.example.com, "
                "*.cdn.example.com)",
            ),
        ),
        (
            {"x": {"call": {"operation": "createCustomer", "body": CUSTOMER_BODY, "capture": {"id": "id"}}}},
            PlanProblem(
                "bindings.x.call.capture.id",
                "bad_capture",
                "'id' is not a JSONPath ($...), header:<Name> or status",
            ),
        ),
        (
            {
                "x": {
                    "call": {
                        "operation": "createCustomer",
                        "body": CUSTOMER_BODY,
                        "capture": {"loc": "header:"},
                    }
                }
            },
            PlanProblem(
                "bindings.x.call.capture.loc",
                "bad_capture",
                "header: needs a header name, e.g. header:Location",
            ),
        ),
        (
            {
                "x": {
                    "lookup": {
                        "operation": "listItems",
                        "query": {"page": 1},
                        "headers": {"X-Region": "eu"},
                        "select": "items",
                    }
                }
            },
            PlanProblem(
                "bindings.x.lookup.select",
                "bad_select",
                "'items' is not a valid JSONPath: it must start with $",
            ),
        ),
        (
            {"x": {"generate": {"faker": "compnay"}}},
            PlanProblem(
                "bindings.x.generate",
                "generator_invalid",
                "unknown Faker provider 'compnay' (did you mean: company, company_email?)",
            ),
        ),
        (
            {"x": {"generate": {"schema": {"type": "integer", "minimum": 3, "maximum": 1}}}},
            PlanProblem("bindings.x.generate", "generator_invalid", "no number lies between 3 and 1"),
        ),
        (
            {
                "x": {
                    "call": {"operation": "createCustomer", "body": CUSTOMER_BODY},
                    "cleanup": {"operation": "removeCustomer", "path": {"customerId": "{{ self.id }}"}},
                }
            },
            PlanProblem(
                "bindings.x.cleanup.operation",
                "cleanup_mismatch",
                "operation 'removeCustomer' is not in the API description "
                "(close matches: createCustomer, getCustomer, deleteCustomer)",
            ),
        ),
        (
            {
                "x": {
                    "call": {"operation": "createCustomer", "body": CUSTOMER_BODY},
                    "cleanup": {"operation": "deleteCustomer"},
                }
            },
            PlanProblem(
                "bindings.x.cleanup.path",
                "cleanup_mismatch",
                "required path parameter 'customerId' of deleteCustomer is not given",
            ),
        ),
        (
            {
                "x": {
                    "call": {"operation": "createCustomer", "body": CUSTOMER_BODY},
                    "cleanup": {"operation": "deleteCustomer", "path": {"customerId": "42"}},
                }
            },
            PlanProblem(
                "bindings.x.cleanup.path.customerId",
                "cleanup_mismatch",
                "path parameter 'customerId' of the cleanup must come from self (e.g. {{ self.id }})",
            ),
        ),
        (
            {
                "x": {
                    "call": {
                        "operation": "createCustomer",
                        "body": CUSTOMER_BODY,
                        "capture": {"ident": "$.id"},
                    },
                    "cleanup": {"operation": "deleteCustomer", "path": {"customerId": "{{ self.id }}"}},
                }
            },
            PlanProblem(
                "bindings.x.cleanup.path.customerId",
                "cleanup_mismatch",
                "self.id is not captured by the call (captures: ident)",
            ),
        ),
        (
            {"x": {"value": "{{ data.name | }}"}},
            PlanProblem(
                "bindings.x.value",
                "template_syntax",
                "expected token 'name', got 'end of print statement' in '{{ data.name | }}'",
            ),
        ),
    ],
    ids=lambda value: value.code if isinstance(value, PlanProblem) else "",
)
def test_each_problem_has_its_code_path_and_message(changes: dict[str, Any], expected: PlanProblem) -> None:
    assert only(problems_of(changes)) == expected


def test_a_cycle_is_named() -> None:
    problems = problems_of({"p": {"value": "{{ data.q }}"}, "q": {"value": "{{ data.p }}"}})
    assert only(problems) == PlanProblem("bindings.p", "cycle", "dependency cycle: p → q → p")


def test_templates_stand_for_values_of_any_type_in_bodies() -> None:
    body = {"customerId": "{{ data.customer.id }}", "quantity": "{{ data.name | length }}"}
    assert problems_of({"x": {"call": {"operation": "createOrder", "body": body}}}) == []
    assert problems_of({"x": {"call": {"operation": "createOrder", "body": "{{ data.constant }}"}}}) == []


def test_an_environment_without_base_url_allows_no_host() -> None:
    problems = validate_plan(DataPlan.model_validate(GOOD), CATALOGUE, EgressPolicy(hosts=()))
    assert only(problems).code == "host_not_allowed"
    assert only(problems).message == "the environment has no base URL host to send requests to"


def test_without_a_policy_hosts_are_not_judged() -> None:
    headers = {"Callback": "https://evil.example.net/hook"}
    changes = {"x": {"call": {"operation": "createCustomer", "body": CUSTOMER_BODY, "headers": headers}}}
    assert problems_of(changes, policy=None) == []


def test_allowed_subdomains_and_templated_urls_pass() -> None:
    headers = {"Callback": "https://img.cdn.example.com/x", "Referer": "{{ env.base_url }}/x"}
    changes = {"x": {"call": {"operation": "createCustomer", "body": CUSTOMER_BODY, "headers": headers}}}
    assert problems_of(changes) == []


def test_problems_serialise_to_json() -> None:
    problem = PlanProblem("bindings.x", "cycle", "dependency cycle: x → x")
    assert problem.to_json() == {"path": "bindings.x", "code": "cycle", "message": "dependency cycle: x → x"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], [PlanProblem("", "schema", "a plan must be an object, not list")]),
        ({"version": 2}, [PlanProblem("version", "schema", "Input should be 1")]),
        (
            {"bindings": {"bad name": {"value": 1}}},
            [
                PlanProblem(
                    "bindings.bad name.[key]",
                    "schema",
                    "String should match pattern '^[A-Za-z_][A-Za-z0-9_]{0,63}$'",
                )
            ],
        ),
        (
            {"bindings": {"x": {"value": 1, "generate": {"faker": "name"}}}},
            [
                PlanProblem(
                    "bindings.x",
                    "schema",
                    "Value error, a binding needs exactly one of: generate, call, lookup, value",
                )
            ],
        ),
        (
            {"bindings": {"x": {"call": {"operation": "a", "surprise": 1}}}},
            [PlanProblem("bindings.x.call.surprise", "schema", "Extra inputs are not permitted")],
        ),
    ],
)
def test_parse_plan_turns_format_errors_into_problems(data: Any, expected: list[PlanProblem]) -> None:
    plan, problems = parse_plan(data)
    assert plan is None
    assert problems == expected


def test_parse_plan_accepts_a_good_plan() -> None:
    plan, problems = parse_plan(GOOD)
    assert problems == []
    assert plan is not None
    assert set(plan.bindings) == set(GOOD["bindings"])


def test_validation_of_a_large_plan_is_fast() -> None:
    bindings = {
        f"c{i}": {
            "call": {
                "operation": "createOrder",
                "body": {"customerId": f"{{{{ data.c{i - 1}.id }}}}" if i else "1", "quantity": 1},
            }
        }
        for i in range(200)
    }
    plan = DataPlan.model_validate({"bindings": bindings})
    started = time.perf_counter()
    assert validate_plan(plan, CATALOGUE, POLICY) == []
    assert time.perf_counter() - started < 2.0


def test_hostile_generate_schemas_are_problems_not_crashes() -> None:
    changes = {
        "r": {"generate": {"schema": {"$ref": "#/nowhere"}}},
        "l": {"generate": {"schema": {"type": "string", "minLength": 10**12}}},
        "t": {"generate": {"schema": {"type": 7}}},
    }
    problems = problems_of(changes)
    assert [(p.path, p.code) for p in problems] == [
        ("bindings.r.generate", "generator_invalid"),
        ("bindings.l.generate", "generator_invalid"),
        ("bindings.t.generate", "generator_invalid"),
    ]
    assert problems[1].message == "minLength 1000000000000 is more than 10000"


def test_a_request_schema_the_validator_cannot_use_is_reported_on_the_body() -> None:
    operation = Operation("odd", "POST", "/odd", request_schema={"$ref": "#/components/schemas/Gone"})
    catalogue = Catalogue("t", "0" * 64, {"odd": operation})
    plan = DataPlan.model_validate({"bindings": {"x": {"call": {"operation": "odd", "body": {"a": 1}}}}})
    problem = only(validate_plan(plan, catalogue, None))
    assert problem.code == "body_invalid"
    assert problem.message.startswith("the request schema of odd: the schema cannot be used: ")


def test_a_forwarded_header_naming_another_host_is_refused() -> None:
    headers = {"Forwarded": "for=1.2.3.4;host=evil.example.net"}
    changes = {"x": {"call": {"operation": "createCustomer", "body": CUSTOMER_BODY, "headers": headers}}}
    assert only(problems_of(changes)).message.startswith("host 'evil.example.net' is not allowed")
    headers = {"Forwarded": "for=1.2.3.4;proto=https"}
    changes = {"x": {"call": {"operation": "createCustomer", "body": CUSTOMER_BODY, "headers": headers}}}
    assert problems_of(changes) == []
