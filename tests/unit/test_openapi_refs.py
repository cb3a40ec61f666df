"""Inlining local $refs: nested, recursive (cut), with siblings; external and dangling refs refused."""

from __future__ import annotations

from typing import Any

import pytest

from orchestra.openapi.errors import DescriptionTooLarge, InvalidDescription
from orchestra.openapi.ref_resolver import MAX_REF_CHAIN, RefResolver, resolve_refs


def components(**schemas: Any) -> dict[str, Any]:
    return {"openapi": "3.1.0", "paths": {}, "components": {"schemas": schemas}}


def test_nested_refs_are_inlined() -> None:
    document = components(
        Pet={"type": "object", "properties": {"owner": {"$ref": "#/components/schemas/Owner"}}},
        Owner={"type": "object", "properties": {"name": {"type": "string"}}},
    )
    assert resolve_refs(document, {"$ref": "#/components/schemas/Pet"}) == {
        "type": "object",
        "properties": {"owner": {"type": "object", "properties": {"name": {"type": "string"}}}},
    }


def test_a_recursive_schema_is_cut_to_any_after_one_repetition() -> None:
    node = {
        "type": "object",
        "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}},
    }
    resolved = resolve_refs(components(Node=node), {"$ref": "#/components/schemas/Node"})
    child = resolved["properties"]["children"]["items"]
    assert child["type"] == "object"  # the first repetition is inlined
    assert child["properties"]["children"]["items"] == {}  # the next one is cut: any value


def test_mutually_recursive_schemas_terminate() -> None:
    document = components(
        A={"properties": {"b": {"$ref": "#/components/schemas/B"}}},
        B={"properties": {"a": {"$ref": "#/components/schemas/A"}}},
    )
    resolved = resolve_refs(document, {"$ref": "#/components/schemas/A"})
    assert resolved["properties"]["b"]["properties"]["a"]["properties"]["b"]["properties"]["a"] == {}


def test_siblings_of_a_ref_are_laid_over_the_target() -> None:
    document = components(Name={"type": "string", "description": "generic"})
    value = {"$ref": "#/components/schemas/Name", "description": "the pet's name"}
    assert resolve_refs(document, value) == {"type": "string", "description": "the pet's name"}


def test_json_pointer_escapes_are_understood() -> None:
    document = {"paths": {"/a/{id}": {"get": {"x": 1}}}}
    assert RefResolver(document).target("#/paths/~1a~1%7Bid%7D/get") == {"x": 1}


@pytest.mark.parametrize(
    ("ref", "needle"),
    [
        (
            "other.yaml#/components/schemas/Pet",
            "external $ref 'other.yaml#/components/schemas/Pet' is not supported",
        ),
        ("https://example.com/pet.json", "external $ref"),
        ("#/components/schemas/Missing", "points to nothing"),
        ("#components", "is not a JSON pointer"),
    ],
)
def test_unusable_refs_are_refused_with_the_reason(ref: str, needle: str) -> None:
    with pytest.raises(InvalidDescription) as caught:
        resolve_refs(components(), {"schema": {"$ref": ref}})
    assert needle in caught.value.detail


def test_a_ref_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidDescription):
        resolve_refs(components(), {"$ref": 42})


def test_exponential_expansion_is_refused_as_too_large() -> None:
    # S0 uses S1 60 times, S1 uses S2 60 times, ...: 60 ** 4 nodes even with chains cut at 4 references.
    schemas = {
        f"S{i}": {"properties": {f"p{n}": {"$ref": f"#/components/schemas/S{i + 1}"} for n in range(60)}}
        for i in range(30)
    }
    schemas["S30"] = {"type": "string"}
    with pytest.raises(DescriptionTooLarge):
        RefResolver(components(**schemas), max_nodes=100_000).resolve({"$ref": "#/components/schemas/S0"})


def test_schemas_referring_to_each_other_are_cut_after_a_chain_of_references() -> None:
    # Users → Roles → Policies → Users …, each also referring to the others: no single one repeats soon,
    # yet inlining all of it would multiply without end; a reference inside MAX_REF_CHAIN others is {}.
    names = ["Users", "Roles", "Policies", "Permissions", "Files"]
    schemas = {
        name: {"properties": {other.lower(): {"$ref": f"#/components/schemas/{other}"} for other in names}}
        for name in names
    }
    node = RefResolver(components(**schemas)).resolve({"$ref": "#/components/schemas/Users"})
    for step in range(1, MAX_REF_CHAIN):  # Users → roles → policies → permissions: all inlined
        node = node["properties"][names[step].lower()]
        assert set(node["properties"]) == {name.lower() for name in names}
    assert node["properties"][names[MAX_REF_CHAIN].lower()] == {}  # files, nested in four references


def test_a_ref_cycle_that_describes_nothing_is_refused() -> None:
    document = components(
        A={"$ref": "#/components/schemas/B"},
        B={"$ref": "#/components/schemas/C", "description": "siblings add no structure"},
        C={"$ref": "#/components/schemas/A"},
    )
    with pytest.raises(InvalidDescription) as caught:
        resolve_refs(document, {"schema": {"$ref": "#/components/schemas/A"}})
    assert caught.value.detail == (
        "$ref cycle: #/components/schemas/A -> #/components/schemas/B -> #/components/schemas/C -> "
        "#/components/schemas/A refers back to itself and describes nothing"
    )
    with pytest.raises(InvalidDescription, match="refers back to itself"):
        resolve_refs(
            components(Self={"$ref": "#/components/schemas/Self"}), {"$ref": "#/components/schemas/Self"}
        )
