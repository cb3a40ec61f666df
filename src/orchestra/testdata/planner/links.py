"""Linking a path parameter to the field of a created entity's answer that fills it, in this order: a link
of the description; the creation on the item's own collection (which then sends that field when it is
optional, or, when its answer does not say it, is named by the value it sent); the entity the parameter
names or follows in the path; the entity nothing creates that is a part of one something creates
(``flow_run_state``: the ``state_id`` of the flow run); then any creation whose resource has a field of that
name (never for ``id``, ``uuid``, ``key`` or ``name``, which every resource has), or the signed-in user's own
rather than one that nothing could delete."""

from __future__ import annotations

from orchestra.openapi.operations import Operation
from orchestra.testdata.planner.actions import maker_of_item
from orchestra.testdata.planner.entities import (
    entity_of,
    field_for,
    field_path,
    is_collection_post,
    object_schema,
    parent_left_to_server,
    producer_of,
    properties_of,
    resource_of,
    singular,
    token_field,
    undoer_of,
)
from orchestra.testdata.planner.login_call import LoginCall
from orchestra.testdata.planner.plan_state import template
from orchestra.testdata.planner.references import GENERIC_IDENTIFIERS, References
from orchestra.testdata.planner.schema_facts import required_fields
from orchestra.testdata.values.name_hints import referenced_entity, snake


class PathLinks(References, LoginCall):
    """Fills path parameters from created entities' answers (see the module docstring)."""

    def linked(self, operation: Operation, parameter: str) -> str | None:
        """A path parameter linked to the field of a created entity's response that fills it, through
        envelopes: first a link of the description (a creating operation's response ``links`` naming this
        operation and parameter), then the entity the parameter names or follows in the path
        (``{commentId}`` → ``$.comment.id`` of the comment's producer, ``/articles/{slug}`` →
        ``$.article.slug``), then any producer whose resource has a field of that name (``{username}`` →
        ``$.user.username``). None when nothing fits (or creating it would need itself)."""
        where = f"{operation.operation_id} {{{parameter}}}"
        for source in sorted(self.catalogue.operations.values(), key=lambda op: op.operation_id):
            for link in source.links:
                if link.operation != operation.operation_id or link.parameter != parameter:
                    continue
                if not is_collection_post(source) or token_field(source) is not None or self.is_login(source):
                    continue
                if not self.may_create(source):
                    continue
                made = entity_of(source)
                binding = self.entity(made, source)
                pointer = ".".join(link.field)
                self.note(f"{where}: $.{pointer} of the {made} created with {source.operation_id} (its link)")
                return template(f"data.{binding}.{pointer}")
        collection = self.collection_producer(operation, parameter)
        if collection is not None:
            found = field_for(collection, parameter)
            if found is not None:
                entity = entity_of(collection)
                if entity not in self.created:  # an optional field it answers: sent, or it answers null
                    self.send_optional(collection, parameter)
                binding = self.entity(entity, collection)
                made_by = collection.operation_id
                self.note(f"{where}: $.{found} of the {entity} created with {made_by} (its collection)")
                return template(f"data.{binding}.{found}")
            if parameter in required_fields(collection.request_schema):
                # The answer does not say it (``201`` without a body), the request did: the item is
                # named by the value its creation sent (``POST /runs/{id}/input`` with ``{"key": …}``).
                binding = self.entity(entity_of(collection), collection)
                call = self.bindings[binding].call
                sent = call.body.get(parameter) if call is not None and isinstance(call.body, dict) else None
                if isinstance(sent, str):
                    self.note(f"{where}: the {parameter} {collection.operation_id} sent")
                    self.sent_names[sent] = binding
                    return sent
        declared = operation.parameter(parameter, "path")
        named_after = self.entity_named(parameter, declared.schema if declared is not None else None)
        entities = [referenced_entity(parameter), self.named_entity(parameter), named_after]
        entities.append(entity_before(operation.path, parameter))
        for entity in dict.fromkeys(entity for entity in entities if entity):
            producer = producer_of(self.catalogue, entity)
            if producer is None or not self.may_create(producer):
                continue
            found = field_for(producer, parameter, entity)
            if found is not None:
                binding = self.entity(entity, producer)
                self.note(f"{where}: $.{found} of the {entity} created with {producer.operation_id}")
                return template(f"data.{binding}.{found}")
        for entity in dict.fromkeys(entity for entity in entities if entity):
            held = self.held_by(entity) if producer_of(self.catalogue, entity) is None else None
            if held is not None and (parameter.lower() in ("id", "uuid") or referenced_entity(parameter)):
                producer, found = held
                binding = self.entity(entity_of(producer), producer)
                self.note(
                    f"{where}: $.{found} of the {entity_of(producer)} created with {producer.operation_id}"
                )
                return template(f"data.{binding}.{found}")
        if parameter.lower() in GENERIC_IDENTIFIERS:
            return None  # every resource has one: a field of that name says nothing about which
        for producer in sorted(self.catalogue.operations.values(), key=lambda op: (len(op.path), op.path)):
            if (
                not is_collection_post(producer)
                or token_field(producer) is not None
                or self.is_login(producer)
            ):
                continue
            entity = entity_of(producer)
            if producer_of(self.catalogue, entity) is not producer or not self.may_create(producer):
                continue
            _, properties = resource_of(producer)
            if not any(snake(name) == snake(parameter) for name in properties):
                continue
            if named_after is not None and named_after != entity:
                continue  # a preset's ``collection`` names a collection: not what makes one
            found = field_for(producer, parameter, entity)
            if found is None:
                continue
            if not self.leftovers and undoer_of(self.catalogue, producer) is None:
                own = self.signed_in_field(parameter)
                if own is not None:  # rather the signed-in user's own than one nothing could delete
                    self.note(
                        f"{where}: {own[1]} of the log-in's answer (the signed-in user's own; nothing "
                        f"deletes what {producer.operation_id} makes)"
                    )
                    return own[0]
            binding = self.entity(entity, producer)
            self.note(f"{where}: $.{found} of the {entity} created with {producer.operation_id}")
            return template(f"data.{binding}.{found}")
        return None

    def collection_producer(self, operation: Operation, parameter: str) -> Operation | None:
        """The creation on the collection an item path names by ``{parameter}`` (``POST
        /v2/limits/`` for ``/v2/limits/{id_or_name}``, though ``POST /limits/`` makes limits too): an
        item is made where it is listed. None when there is none, or it is not a creation that may be
        planned, or one that leaves what the item belongs to to the SUT."""
        marker = "/{" + parameter + "}"
        if marker not in operation.path:
            return None
        collection = operation.path[: operation.path.index(marker)].rstrip("/")
        for producer in self.catalogue.operations.values():
            if (
                is_collection_post(producer)
                and producer.path.rstrip("/") == collection
                and producer is not operation
                and self.creates(producer)
                and self.may_create(producer)
                and parent_left_to_server(self.catalogue, producer) is None  # rather where it names one
            ):
                return producer
        maker = maker_of_item(self.catalogue, collection, parameter)  # ``POST …/workers/heartbeat``
        if maker is not None and maker is not operation and self.creates(maker) and self.may_create(maker):
            return maker
        return None

    def send_optional(self, producer: Operation, parameter: str) -> None:
        """A path parameter filled by a field the creation answers and may be sent (``/artifacts/{key}``
        after ``POST /artifacts`` with an optional ``key``): the creation sends it, or the server may leave
        it null and the path could not be filled."""
        sendable = properties_of(object_schema(producer.request_schema))
        name = next((name for name in sendable if snake(name) == snake(parameter)), None)
        if name is None or snake(name) in ("id", "uuid") or sendable[name].get("readOnly"):
            return  # its own id is the server's to give
        if name not in required_fields(producer.request_schema):
            self.sent_optional.setdefault(producer.operation_id, []).append(name)
            self.note(f"{producer.operation_id} sends {name}: {{{parameter}}} is its {name}")

    def held_by(self, entity: str) -> tuple[Operation, str] | None:
        """For an entity nothing creates whose name is another's and a part (``flow_run_state``): that
        other's producer and the field of its answer naming the part (``state_id`` of the flow run ``POST
        /flow_runs`` makes: the state the server gave it). None when no such entity or field exists."""
        parts = entity.split("_")
        for cut in range(len(parts) - 1, 0, -1):
            owner, part = "_".join(parts[:cut]), "_".join(parts[cut:])
            producer = producer_of(self.catalogue, owner)
            if producer is None or not self.may_create(producer) or not self.creates(producer):
                continue
            key, properties = resource_of(producer)
            name = next((name for name in properties if snake(name) in (f"{part}_id", f"{part}_uuid")), None)
            if name is not None:
                return producer, field_path(key, name)
        return None


def entity_before(path: str, parameter: str) -> str | None:
    parts = [part for part in path.strip("/").split("/") if part]
    marker = "{" + parameter + "}"
    if marker in parts:
        index = parts.index(marker)
        if index > 1 and parts[index - 1].lower() in (parameter.lower(), f"by-{parameter.lower()}"):
            index -= 1  # ``/variables/name/{name}``: the collection is before the word naming the key
        if index > 0 and not parts[index - 1].startswith("{"):
            return snake(singular(parts[index - 1]))
    return None
