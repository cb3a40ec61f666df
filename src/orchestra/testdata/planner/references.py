"""What a field of a request refers to, and the created entity that fills it: ``customerId`` or
``customer_uuid`` refers to a customer; ``<entity>_key`` or ``_ref`` only to an entity the description knows;
a scalar named after an entity the API creates (``role``) holds its key; ``<entity>_names`` or ``_ids`` list
such entities; ``<entity>_name`` names one by its name; an action's ``names`` (``ids``, ``keys``) name items
of the collection it acts on (``actions.py``). A reference is filled with the id (or the name) of the entity
created for it, which is created first, once per entity; one to something no operation creates by name (a
lease) with the field of the creation whose answer names it (``lease_id``)."""

from __future__ import annotations

from typing import Any

from orchestra.openapi.operations import JsonSchema, Operation
from orchestra.testdata.planner.actions import naming_fields, referred
from orchestra.testdata.planner.entities import (
    entity_of,
    field_path,
    id_field,
    producer_of,
    resource_of,
    singular,
    token_field,
)
from orchestra.testdata.planner.lookups import Lookups
from orchestra.testdata.planner.plan_state import MAX_DEPTH, template
from orchestra.testdata.planner.schema_facts import an_array
from orchestra.testdata.values.generator import key_or_item
from orchestra.testdata.values.name_hints import snake

GENERIC_IDENTIFIERS = ("id", "uuid", "key", "name")  # every resource has one: naming none in particular


class References(Lookups):
    """Tells which entity a field refers to and fills it with a created one (see the module docstring)."""

    def referred(self, prop: str) -> str | None:
        """The entity a property refers to (``actions.referred``): any for ``<entity>Id`` / ``_uuid``; for
        ``<entity>_key`` / ``_ref`` only one the description knows as a resource: ``task_key`` of an API
        without tasks is a plain value (a key the client chooses), not a reference to something to create
        or look up."""
        return referred(self.catalogue, prop)

    def named_item(self, operation: Operation, prop: str) -> Any:
        """For a field of an action's body that names items of its collection (``names`` of ``POST
        /limits/increment``, ``actions.naming_fields``): the name (id, key) of an item the plan creates
        there, in a list when the field is one. None when the field names no items or none can be made."""
        found = naming_fields(self.catalogue, operation).get(prop)
        if found is None:
            return None
        producer, field, listed = found
        if not self.may_create(producer):
            return None
        entity = entity_of(producer)
        binding = self.entity(entity, producer)
        call = self.bindings[binding].call
        if call is None or call.operation != producer.operation_id:  # the same entity made elsewhere
            binding = self.call(self.name(entity), producer, cleanup=True)
        self.note(
            f"{operation.operation_id} {prop}: the {field.rsplit('.', 1)[-1]} of the {entity} created with "
            f"{producer.operation_id} (an item of the collection it acts on)"
        )
        value = template(f"data.{binding}.{field}")
        return [value] if listed else value

    def is_relation(self, prop: str, schema: JsonSchema | None) -> bool:
        """Whether a property named after an entity of the API (``role``, ``flow`` beside ``POST /roles``,
        ``POST /flows``) holds a scalar: that entity's key, as CMSs write relations; or whether its schema
        takes a related item's key or the item itself (``resolve``: ``oneOf: [string, Operations]``)."""
        if key_or_item(schema):
            return True
        if (
            not isinstance(schema, dict)
            or "properties" in schema
            or schema.get("type") in ("object", "array")
        ):
            return False
        return producer_of(self.catalogue, snake(singular(prop))) is not None

    def entity_named(self, parameter: str, schema: JsonSchema | None) -> str | None:
        """The entity a path parameter is named after (``/fields/{collection}``: a collection's key), when
        the API creates that entity; never for a name every resource has (``{id}``, ``{key}``, ``{name}``)
        or a parameter whose schema lists its values (an ``enum``)."""
        if parameter.lower() in GENERIC_IDENTIFIERS:
            return None
        if isinstance(schema, dict) and ("enum" in schema or "const" in schema):
            return None
        return snake(singular(parameter)) if self.is_relation(parameter, {"type": "string"}) else None

    def lists_entities(self, prop: str, schema: JsonSchema | None) -> bool:
        """Whether a property is a list of names or keys of an entity the API creates (``work_queue_names``,
        ``deployment_ids``)."""
        key = snake(prop)
        ending = next((end for end in ("_names", "_ids", "_keys") if key.endswith(end)), None)
        if ending is None or len(key) <= len(ending) or not an_array(schema):
            return False
        return producer_of(self.catalogue, key[: -len(ending)]) is not None

    def named_entity(self, prop: str) -> str | None:
        """The entity a ``<entity>_name`` property names by its name (``work_pool_name``), when an
        operation creates that entity and its resource has a ``name``."""
        key = snake(prop)
        if not key.endswith("_name") or len(key) <= len("_name"):
            return None
        producer = producer_of(self.catalogue, key[: -len("_name")])
        if producer is None or "name" not in resource_of(producer)[1]:
            return None
        return key[: -len("_name")]

    def by_name(self, entity: str, operation: Operation, prop: str) -> str | None:
        """The name of a created ``entity`` for a required ``<entity>_name`` property of ``operation``."""
        where = f"{operation.operation_id} {prop}"
        found = self.reference(entity, where, field="name")
        self.unresolved.pop(where, None)
        return found

    def answered_by(self, entity: str) -> tuple[Operation, str] | None:
        """For an entity no operation creates by name (a lease): a creation whose answer has
        ``<entity>_id`` (``lease_id`` of ``POST /limits/increment-with-lease``), made as a part of what it
        creates, and that field's dotted path. The creation that names the entity in its path first."""
        wanted = (f"{entity}_id", f"{entity}_uuid")
        found: list[tuple[Operation, str]] = []
        for producer in self.catalogue.operations.values():
            if (
                not self.creates(producer)
                or token_field(producer) is not None
                or not self.may_create(producer)
            ):
                continue
            key, answered = resource_of(producer)
            name = next((name for name in answered if snake(name) in wanted), None)
            if name is not None:
                found.append((producer, field_path(key, name)))
        found.sort(key=lambda pair: (entity not in snake(pair[0].path), len(pair[0].path), pair[0].path))
        return found[0] if found else None

    def reference(
        self, entity: str, where: str, *, field: str | None = None, existing: bool = True
    ) -> str | None:
        """``{{ data.<binding>.<id> }}`` of a created ``entity`` (or its ``field``), creating it first —
        or, when the SUT refused this user that creation (403) and ``existing`` allows, of the first one its
        listing answers; None when no operation creates it (or creating it would need itself)."""
        producer = producer_of(self.catalogue, entity)
        if producer is None and field is None:
            answered = self.answered_by(entity)
            if answered is not None:
                producer, found = answered
                binding = self.entity(entity_of(producer), producer)
                self.note(f"{where}: $.{found} of what {producer.operation_id} creates (its answer names it)")
                return template(f"data.{binding}.{found}")
        if producer is None:
            self.unresolved[where] = f"it refers to {_a(entity)}, and no operation creates one"
            return None
        if producer.operation_id in self.learnt.forbidden:  # this user may not create one: an existing one
            name = field or id_field(producer).rsplit(".", 1)[-1]
            listed = self.first_listed(producer.path, name, entity, where) if existing else None
            if listed is None:
                why = "no listing names an existing one" if existing else "an existing one is only read"
                self.unresolved[where] = (
                    f"it refers to {_a(entity)}, which this user may not create ({producer.operation_id} "
                    f"answered 403), and {why}"
                )
            return listed
        if producer.operation_id in self.in_progress or len(self.in_progress) > MAX_DEPTH:
            self.unresolved[where] = f"it refers to {_a(entity)}, and creating one would need itself"
            return None
        binding = self.entity(entity, producer)
        if field is not None:
            found = field_path(resource_of(producer)[0], field)
            self.note(f"{where}: the {field} of the {entity} created with {producer.operation_id}")
            return template(f"data.{binding}.{found}")
        self.note(f"{where}: the id of the {entity} created with {producer.operation_id}")
        return template(f"data.{binding}.{id_field(producer)}")


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun
