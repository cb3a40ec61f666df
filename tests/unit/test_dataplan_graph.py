"""Dependencies come from depends_on and from data.<name> in templates; order, waves and cycles."""

from __future__ import annotations

from typing import Any

import pytest

from orchestra.testdata.plans.dataplan_model import DataPlan
from orchestra.testdata.plans.graph import (
    CycleError,
    dependencies,
    find_cycle,
    topological_order,
    unchanged,
    waves,
)
from orchestra.testdata.plans.templates import references, renamed_self


def plan(bindings: dict[str, Any], headers: dict[str, str] | None = None) -> DataPlan:
    return DataPlan.model_validate({"bindings": bindings, "defaults": {"headers": headers or {}}})


def call(operation: str = "op", **request: Any) -> dict[str, Any]:
    return {"call": {"operation": operation, **request}}


def test_template_references_count_as_dependencies_in_every_form() -> None:
    graph = dependencies(
        plan(
            {
                "a": {"value": 1},
                "b": {"value": 2},
                "c": {"value": 3},
                "d": {"value": 4},
                "user": call(
                    path={"id": "{{ data.a.id }}"},
                    query={"q": "{{ data['b'] }}"},
                    body={"x": ["{{ data.c | length }}", {"{{ data.d }}": 1}]},
                ),
                "e": {"value": "{{ data.a }}"},
                "f": {"generate": {"faker": "name"}, "depends_on": ["e"]},
            }
        )
    )
    assert graph["user"] == {"a", "b", "c", "d"}
    assert graph["e"] == {"a"}
    assert graph["f"] == {"e"}


def test_cleanup_references_are_dependencies_but_self_is_not_a_binding() -> None:
    graph = dependencies(
        plan(
            {
                "parent": {"value": {"id": 1}},
                "child": {
                    **call(),
                    "cleanup": {
                        "operation": "del",
                        "path": {"p": "{{ data.parent.id }}", "c": "{{ self.id }}"},
                    },
                },
            }
        )
    )
    assert graph["child"] == {"parent"}


def test_a_default_header_makes_every_call_wait_for_its_binding_except_the_binding_and_its_needs() -> None:
    graph = dependencies(
        plan(
            {
                "creds": {"value": {"user": "u"}},
                "auth": call("issueToken", body={"user": "{{ data.creds.user }}"}),
                "customer": call("createCustomer"),
                "fields": {"generate": {"faker": "name"}},
            },
            headers={"Authorization": "Bearer {{ data.auth.token }}"},
        )
    )
    assert graph == {"creds": set(), "auth": {"creds"}, "customer": {"auth"}, "fields": set()}


def test_waves_group_independent_bindings_and_keep_order() -> None:
    graph = {"a": set(), "b": set(), "c": {"a", "b"}, "d": {"c"}, "e": {"a"}}
    assert waves(graph) == [["a", "b"], ["c", "e"], ["d"]]
    order = topological_order(graph)
    assert all(order.index(dep) < order.index(name) for name, deps in graph.items() for dep in deps)


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        ({"a": {"b"}, "b": {"a"}}, ["a", "b", "a"]),
        ({"a": {"a"}}, ["a", "a"]),
        ({"x": set(), "a": {"x", "b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ],
)
def test_cycles_are_found_and_named(graph: dict[str, set[str]], cycle: list[str]) -> None:
    assert find_cycle(graph) == cycle
    with pytest.raises(CycleError, match="dependency cycle: " + " → ".join(cycle)):
        waves(graph)


def test_no_cycle_in_a_diamond() -> None:
    assert find_cycle({"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b", "c"}}) is None


def test_a_long_chain_is_handled_without_recursion_limits() -> None:
    graph = {f"b{i}": {f"b{i - 1}"} if i else set() for i in range(3000)}
    assert len(waves(graph)) == 3000


def test_self_is_renamed_only_where_it_is_the_variable() -> None:
    assert renamed_self("/x/{{ self.id }}-{{ data.self }}") == "/x/{{ _cleanup_self.id }}-{{ data.self }}"
    assert renamed_self("self {{ 1 }}") == "self {{ 1 }}"
    refs = references("{{ self['id'] ~ env.x ~ secrets.token }}")
    assert refs.roots == {"self", "env", "secrets"}
    assert refs.members["self"] == {"id"}


TOKEN = {"Authorization": "Token {{ data.login.token }}"}
SHOP = {
    "login": call("login", capture={"token": "$.token"}),
    "name": {"generate": {"faker": "name"}},
    "customer": call("createCustomer", body={"name": "{{ data.name }}"}),
    "order": call("createOrder", body={"customer": "{{ data.customer.id }}"}),
    "item": call("createItem", body={"name": "lamp"}),
}


def test_a_repaired_plan_keeps_only_bindings_whose_definition_and_needs_are_the_same() -> None:
    before = plan(SHOP, TOKEN)
    assert unchanged(before, before) == set(SHOP)
    edited = plan(
        {**SHOP, "customer": call("createCustomer", body={"name": "{{ data.name }}", "vip": True})}, TOKEN
    )
    assert unchanged(before, edited) == {"login", "name", "item"}  # order needs the changed customer
    recaptured = plan({**SHOP, "login": call("login", capture={"token": "$.user.token"})}, TOKEN)
    assert unchanged(before, recaptured) == {"name"}  # every call is sent the header with the login's token
    described = plan({**SHOP, "item": {**SHOP["item"], "description": "a lamp to sell"}}, TOKEN)
    assert unchanged(before, described) == set(SHOP)


def test_a_changed_default_header_changes_the_calls_it_is_sent_with_only() -> None:
    before = plan(SHOP, {"Authorization": "Bearer {{ data.login.token }}"})
    assert unchanged(before, plan(SHOP, TOKEN)) == {"login", "name"}  # the log-in is not sent its own token
    assert unchanged(before, plan(SHOP, {**TOKEN, "X-Client": "orchestra"})) == {"name"}


def test_generated_values_change_with_the_seed_and_bindings_added_or_removed_count_as_changed() -> None:
    before = plan(SHOP, TOKEN)
    reseeded = DataPlan.model_validate({"seed": 7, "bindings": SHOP, "defaults": {"headers": TOKEN}})
    assert unchanged(before, reseeded) == {"login", "item"}
    fewer = {name: binding for name, binding in SHOP.items() if name != "customer"}
    fewer["order"] = call("createOrder", body={"customer": "c-1"})
    assert unchanged(before, plan(fewer, TOKEN)) == {"login", "name", "item"}
    assert unchanged(plan(fewer, TOKEN), before) == {"login", "name", "item"}


def test_nothing_is_unchanged_in_a_plan_that_cannot_be_ordered() -> None:
    circular = plan({"a": {"value": "{{ data.b }}"}, "b": {"value": "{{ data.a }}"}})
    assert unchanged(circular, circular) == set()
