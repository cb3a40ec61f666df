"""Reading a test's data requirements: the entities ``requires`` names (each to be created by its producer,
in the order the text names them), the enum values it names for their bodies (``gold``: ``tier: gold``), and
the component schemas ``schemas`` names (found where operations use them: ``$ref``s are inlined)."""

from __future__ import annotations

import re
from typing import Any

from orchestra.openapi.operations import Catalogue, JsonSchema, Operation
from orchestra.testdata.planner.entities import (
    entity_of,
    is_collection_post,
    object_schema,
    producer_of,
    properties_of,
    singular,
)
from orchestra.testdata.planner.login_call import LoginCall
from orchestra.testdata.plans.dataplan_model import Binding, Generate

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


class Requirements(LoginCall):
    """Reads ``requires`` and ``schemas`` (see the module docstring)."""

    def entities_in(self, text: str) -> list[tuple[str, Operation]]:
        words = {word.lower() for word in _WORD.findall(text)}
        words |= {singular(word) for word in words}
        found: list[tuple[str, Operation]] = []
        for operation in self.catalogue.operations.values():
            entity = entity_of(operation)
            if not self.creates(operation) or not is_collection_post(operation):
                continue
            if entity in words or entity.replace("_", "") in words:
                if producer_of(self.catalogue, entity) is operation:
                    found.append((entity, operation))
        position = {entity: text.lower().find(entity) for entity, _ in found}
        # Entities named later often depend on earlier ones; creating in text order reads naturally.
        return sorted(found, key=lambda pair: position[pair[0]])

    def values_in(self, text: str, operation: Operation) -> dict[str, Any]:
        """Body fields whose enum has a value the text names: ``gold`` → ``tier: gold``."""
        words = {word.lower() for word in _WORD.findall(text)}
        fixed: dict[str, Any] = {}
        for prop, schema in properties_of(object_schema(operation.request_schema)).items():
            for option in _enum_of(schema):
                if isinstance(option, str) and option.lower() in words:
                    fixed[prop] = option
                    self.note(f"{operation.operation_id}.{prop} = {option!r} (named in requires)")
                    break
        return fixed

    def schema(self, name: str) -> None:
        found = _component(self.catalogue, name)
        if found is None:
            self.note(f"schema {name} is not used by any operation of the API description: skipped")
            return
        binding = self.name(name)
        self.bindings[binding] = Binding(generate=Generate(json_schema=found))
        self.note(f"data.{binding} is a generated {name}")


def _enum_of(schema: JsonSchema) -> list[Any]:
    if isinstance(schema.get("enum"), list):
        return list(schema["enum"])
    options: list[Any] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key) or []:
            if isinstance(part, dict):
                options += _enum_of(part)
    return options


def _component(catalogue: Catalogue, name: str) -> JsonSchema | None:
    """A component schema by name, found where operations use it (``$ref``s are inlined in a catalogue,
    the schema's ``title`` keeps its name)."""
    wanted = name.lower()
    for operation in catalogue.operations.values():
        for schema in [operation.request_schema, *operation.responses.values()]:
            found = _titled(schema, wanted, 0)
            if found is not None:
                return found
    return None


def _titled(schema: Any, wanted: str, depth: int) -> JsonSchema | None:
    if not isinstance(schema, dict) or depth > 6:
        return None
    if str(schema.get("title", "")).lower() == wanted:
        return schema
    children: list[Any] = list((schema.get("properties") or {}).values())
    for key in ("allOf", "anyOf", "oneOf"):
        children += list(schema.get(key) or [])
    children.append(schema.get("items"))
    for child in children:
        found = _titled(child, wanted, depth + 1)
        if found is not None:
            return found
    return None
