"""The body of a planned request: values the requirements name, the environment's credentials for a
log-in's fields, a token the log-in answered for a field of that name (``refresh_token``), references
filled with created entities' ids or names, optional names, keys and lists of entities left out (made-up
ones name nothing), generated values for the rest of what is required, and what the SUT's refusals taught
(``refusals.py``): fields to send (also fields of the item it answers that the body schema leaves out),
fields to leave out, values to send as a slug. A bulk creation sends one item."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from orchestra.openapi.operations import JsonSchema, Operation
from orchestra.testdata.planner.actions import naming_fields
from orchestra.testdata.planner.entities import bulk_item, object_schema, properties_of, singular, token_field
from orchestra.testdata.planner.login_call import LoginCall
from orchestra.testdata.planner.plan_state import template
from orchestra.testdata.planner.references import References
from orchestra.testdata.planner.refusals import representation_fields, require_paths
from orchestra.testdata.planner.schema_facts import fixed_by
from orchestra.testdata.plans.dataplan_model import Binding, Generate
from orchestra.testdata.values.generator import generated_properties
from orchestra.testdata.values.name_hints import snake
from orchestra.testdata.values.numbers import NoNumber, bounds


class Bodies(References, LoginCall):
    """Builds request bodies (see the module docstring)."""

    def body(self, name: str, operation: Operation, fixed: dict[str, Any]) -> Any:
        schema = operation.request_schema
        if schema is None:
            return None
        item = bulk_item(operation)
        if item is not None:
            # A bulk creation that answers what it made: one item, built as an object body (references
            # filled), so the answer lists exactly the one item the cleanup deletes.
            self.note(f"{operation.operation_id}: one item sent; its answer lists the item it made")
            return [self.body(name, dataclasses.replace(operation, request_schema=item), fixed)]
        merged = object_schema(schema)
        properties = properties_of(merged)
        if merged is None or not properties:
            binding = self.name(f"{name}_body")
            self.bindings[binding] = Binding(generate=Generate(json_schema=schema))
            return template(f"data.{binding}")
        needed = self.learnt.required(operation.operation_id)
        answered = representation_fields(operation)
        added = {p: answered[p] for p in needed if p in answered}
        if added:  # fields of the item it answers that the SUT said the body needs
            properties = {**properties, **added}
            merged = {**merged, "properties": properties}
        taught = [p for p in needed if p.split(".")[0] in properties]
        learnt = [prop for prop in taught if prop in properties]
        if taught:  # a field below the top (``task_runs.start_time.after_``) too: a repair still knows it
            self.note(self.learnt.note(operation.operation_id, taught))
        learnt += [prop for prop in self.sent_optional.get(operation.operation_id, []) if prop not in learnt]
        unwanted = [prop for prop in self.learnt.left_out(operation.operation_id) if prop in properties]
        if unwanted:
            self.note(self.learnt.unwanted_note(operation.operation_id, unwanted))
        required = set(merged.get("required") or []) | set(learnt)
        body: dict[str, Any] = {}
        generated: dict[str, JsonSchema] = {}
        credentials = token_field(operation) is not None  # a login: the environment's own credentials
        naming = naming_fields(self.catalogue, operation)  # an action's ``names``: items of its collection
        for prop in _all_sendable(merged):
            if prop in unwanted and prop not in fixed:
                continue
            if (
                prop in naming
                and prop not in fixed
                and (item := self.named_item(operation, prop)) is not None
            ):
                body[prop] = item
                continue
            entity = self.referred(prop)
            if entity is None and prop in learnt and self.is_relation(prop, properties.get(prop)):
                entity = snake(singular(prop))  # a relation the SUT requires: the key of a created one
            named = self.named_entity(prop)
            if prop in fixed:
                body[prop] = fixed[prop]
            elif not credentials and (given := self.token_given(operation, prop)) is not None:
                body[prop] = given  # a token the log-in answered (``refresh_token``), not a made-up one
            elif credentials and (prop in self.secrets or prop in self.variables):
                body[prop] = template(f"secrets.{prop}" if prop in self.secrets else f"env.{prop}")
            elif (
                named is not None
                or self.is_relation(prop, properties.get(prop))
                or self.lists_entities(prop, properties.get(prop))
            ) and prop not in required:
                continue  # an entity's name or key, optional: a made-up one names nothing (refused or a 404)
            elif named is not None and (by_name := self.by_name(named, operation, prop)) is not None:
                body[prop] = by_name
            elif entity is not None and prop in required:
                where = f"{operation.operation_id} {prop}"
                reference = self.reference(entity, where)
                if reference is not None:
                    body[prop] = reference
                elif fixed_by(properties.get(prop)):
                    generated[prop] = properties[prop]
                else:
                    self.refuse(where, self.unresolved.pop(where, f"nothing fills the {entity} it refers to"))
            elif prop in generated_properties(merged) or prop in learnt:
                generated[prop] = properties.get(prop, {})
        for prop in self.learnt.refused(operation.operation_id):
            if prop in generated and (slug := _as_slug(generated[prop])) is not None:
                generated[prop] = slug
                self.note(f"{operation.operation_id}.{prop}: sent as a slug (the SUT refused its value)")
            elif prop in generated and (least := _at_least(generated[prop])) is not None:
                generated[prop] = least
                self.note(
                    f"{operation.operation_id}.{prop}: sent at its lower bound (the SUT refused its value)"
                )
        for prop in list(generated):
            below = self.learnt.nested(operation.operation_id, prop)
            if below:
                generated[prop] = require_paths(generated[prop], below)
                self.note(
                    f"{operation.operation_id}.{prop}: sends {', '.join(below)} (the SUT said it is missing)"
                )
        if generated:
            fields = self.name(f"{name}_fields")
            wanted = dict.fromkeys(
                [*(merged.get("required") or []), *learnt]
            )  # a field learnt and required: once
            keep = [prop for prop in wanted if prop in generated]
            part = {"type": "object", "properties": generated, "required": keep}
            self.bindings[fields] = Binding(generate=Generate(json_schema=part))
            for prop in generated:
                body[prop] = template(f"data.{fields}['{prop}']")
        return body


SLUG = {"type": "string", "pattern": "^[a-z][a-z0-9]{3,9}-[a-z0-9]{4,8}$"}


def _as_slug(schema: JsonSchema) -> JsonSchema | None:
    """A free-form string's schema (or string or null) as that of a slug — lowercase letters, digits and a
    dash, the form identifiers most often must take — keeping its length bounds; None for anything else (an
    enum, a format, a number, an object)."""
    options = [schema, *(schema.get("anyOf") or []), *(schema.get("oneOf") or [])]
    strings = [part for part in options if isinstance(part, dict) and part.get("type") == "string"]
    if not strings or any(key in part for part in strings for key in ("enum", "const", "format")):
        return None
    bounds = {key: strings[0][key] for key in ("minLength", "maxLength") if key in strings[0]}
    return {**SLUG, **bounds}


def _at_least(schema: JsonSchema) -> JsonSchema | None:
    """A number's schema (or number or null) fixed at its lower bound — the least a request may ask for
    (one slot, one unit), the value a capacity most surely allows; None for anything else, when the schema
    already gives the value (an enum, a constant, a default), or for a ``multipleOf`` (its lower bound may
    be no multiple)."""
    options = [schema, *(schema.get("anyOf") or []), *(schema.get("oneOf") or [])]
    numbers = [
        part for part in options if isinstance(part, dict) and part.get("type") in ("integer", "number")
    ]
    if not numbers or fixed_by(schema) or any("multipleOf" in part for part in numbers):
        return None
    chosen = numbers[0]
    integer = chosen.get("type") == "integer"
    try:
        low, _ = bounds(chosen, integer)
    except NoNumber:
        return None
    least = math.ceil(low) if integer else low
    return {"type": chosen["type"], "minimum": least, "maximum": least}


def _all_sendable(schema: JsonSchema) -> list[str]:
    """Every property a client may send (not readOnly), in the order of the schema."""
    properties = schema.get("properties") or {}
    names = [p for p, sub in properties.items() if not (isinstance(sub, dict) and sub.get("readOnly"))]
    return names + [p for p in schema.get("required") or [] if p not in names]
