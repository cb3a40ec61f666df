"""The built-in planner: a DataPlan from a test's data requirements by rules, without a language model.

- ``requires`` (free text): every entity named in it (``"an order for a gold customer"``) is created by its
  producer operation (``POST /orders``), with an enum value named in the text (``gold``) used where a field
  allows it;
- ``operations``: the inputs of each operation (``data.<operation_id>`` = ``{path, query, headers,
  body}``), with what its inputs refer to created first;
- ``schemas``: a generated instance of each named component schema.

A field that refers to another entity (``customerId``, ``{item_id}``) is fed with the id of a created one;
a path parameter is linked to the producer's response field that fills it (by the description's ``links``,
by name, ``{slug}`` → ``$.article.slug``), reading through single-key envelopes; every created entity gets
the cleanup that deletes it. An input it cannot determine that way (a path parameter, or a required field
that refers to another entity, with nothing to fill it and no value its schema fixes) is refused, never
made up: ``PlanRefused`` says which and why.

Authentication comes from a secret or variable of the environment, or from the API's log-in (``login.py``:
called first with the environment's credentials, its token read at its path), chosen per operation
among the security schemes it accepts (the default headers serve most; a call they do not serve sends its
own), and sent as each scheme declares (``security.py``). A plan never holds a secret value: only
``{{ secrets.x }}``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping
from typing import Any

from orchestra.definitions.testcase_model import DataRequirements
from orchestra.openapi.operations import Catalogue, JsonSchema, Operation, Parameter, SecurityScheme
from orchestra.testdata.planner.entities import (
    bulk_item,
    entity_of,
    field_for,
    field_path,
    id_field,
    is_collection_post,
    is_query_post,
    object_schema,
    parent_left_to_server,
    producer_of,
    properties_of,
    resource_of,
    singular,
    static_segments,
    token_field,
    undoer_of,
)
from orchestra.testdata.planner.login import Login, choose_login
from orchestra.testdata.planner.refusals import Lessons
from orchestra.testdata.planner.restore import restore_for
from orchestra.testdata.planner.security import (
    Sent,
    basic_usable,
    is_basic,
    send_basic,
    send_token,
    takes_token,
)
from orchestra.testdata.planner.undo import LEFTOVERS_HINT, creates, refer_to
from orchestra.testdata.plans.dataplan_model import (
    Binding,
    Call,
    DataPlan,
    Defaults,
    Generate,
    Lookup,
    Request,
)
from orchestra.testdata.values.generator import generated_properties
from orchestra.testdata.values.name_hints import referenced_entity, snake

TOKEN_NAMES = ("token", "api_token", "access_token", "bearer_token", "api_key", "apikey", "auth_token")
_BEARER_NAMES = ("token", "api_token", "access_token", "bearer_token", "auth_token")
MAX_DEPTH = 8
_GENERIC_IDENTIFIERS = ("id", "uuid", "key", "name")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


class PlanRefused(ValueError):
    """The planner cannot determine some inputs and will not make them up: ``reasons`` says which and why,
    one line each (``GetArticle {slug}: …``)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("cannot determine " + "; ".join(reasons))
        self.reasons = reasons


def plan_for(
    requirements: DataRequirements,
    catalogue: Catalogue,
    *,
    environment: Mapping[str, Any],
    secret_names: Collection[str],
    seed: int | None = None,
    learnt: Lessons | None = None,
) -> DataPlan:
    """A plan for a test's declared data needs (see the module docstring); ``learnt``: what the SUT's
    refusals of earlier plans taught (``refusals.py``)."""
    planner = _Planner(catalogue, environment, secret_names, leftovers=requirements.leftovers, learnt=learnt)
    text = requirements.requires or ""
    named = planner.entities_in(text)
    for _, operation in named:
        planner.fixed[operation.operation_id] = planner.values_in(text, operation)
    for entity, operation in named:
        planner.note(f"'{entity}' in requires: created with {operation.operation_id}")
        planner.entity(entity, operation)
    for operation_id in requirements.operations:
        needed = catalogue.get(operation_id)
        if needed is None:
            planner.note(f"operation {operation_id} is not in the API description: skipped")
            continue
        planner.inputs(needed)
    for name in requirements.schemas:
        planner.schema(name)
    if not planner.bindings and requirements.declared:
        planner.note("nothing in the requirements matched an operation or schema of the API description")
    chosen = requirements.seed if requirements.seed is not None else seed
    return planner.plan(chosen)


def plan_for_operation(
    operation_id: str,
    catalogue: Catalogue,
    *,
    environment: Mapping[str, Any],
    secret_names: Collection[str],
    seed: int | None = None,
    leftovers: bool = False,
    learnt: Lessons | None = None,
) -> DataPlan:
    """A plan that makes one valid request of ``operation_id`` (binding ``request``), creating what its
    path and body refer to first, and undoing what the request itself makes or changes. ``leftovers``:
    what cannot be undone may stay in the SUT (otherwise it is refused); ``learnt``: what the SUT's refusals
    of earlier plans taught. Raises KeyError for an unknown operation."""
    operation = catalogue.get(operation_id)
    if operation is None:
        raise KeyError(operation_id)
    planner = _Planner(catalogue, environment, secret_names, leftovers=leftovers, learnt=learnt)
    if planner.creates(operation):
        planner.entity(entity_of(operation), operation, name="request")
    elif operation.method == "POST" and is_query_post(operation):
        planner.call("request", operation, cleanup=False)  # a read, also below an item (``/{kind}/count``)
    elif operation.method in ("PUT", "PATCH") or (
        operation.method == "POST" and not is_collection_post(operation)
    ):
        planner.update("request", operation)
    elif operation.method == "DELETE":
        planner.removal("request", operation)
    else:
        planner.call("request", operation, cleanup=False)
    return planner.plan(seed)


def binding_name(text: str) -> str:
    """The binding a plan names after ``text`` when nothing took that name first: for ``operations``,
    ``data.<binding_name(operation_id)>`` holds the operation's inputs (``createOrder``: ``create_order``)."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", snake(text))[:56] or "value"
    return base if re.match(r"[A-Za-z_]", base) else f"_{base}"


class _Planner:
    def __init__(
        self,
        catalogue: Catalogue,
        environment: Mapping[str, Any],
        secret_names: Collection[str],
        *,
        leftovers: bool = False,
        learnt: Lessons | None = None,
    ):
        self.catalogue = catalogue
        self.learnt = learnt or Lessons()  # body fields the SUT's refusals said an operation needs
        self.leftovers = leftovers  # what cannot be undone may stay in the SUT (the test allows it)
        self.environment = dict(environment)
        self.variables = set(environment)
        self.secrets = set(secret_names)
        self.bindings: dict[str, Binding] = {}
        self.notes: list[str] = []
        self.headers: dict[str, str] = {}
        self.created: dict[str, str] = {}  # entity → the binding that creates it
        self.in_progress: set[str] = set()
        self.value_operations: dict[str, str] = {}  # value binding → the operation whose inputs it holds
        self.sent_cache: dict[str, Sent] = {}  # security scheme → what a request carries for it
        self.token_binding: str | None = None  # the call of the API's log-in, once planned
        self.fixed: dict[str, dict[str, Any]] = {}  # operationId → body values named in requires
        self.refused: list[str] = []  # inputs that cannot be determined: which and why
        self.unresolved: dict[str, str] = {}  # input → why no created entity fills it
        self.sent_optional: dict[str, list[str]] = {}  # operationId → optional fields it must send
        self.sent_names: dict[str, str] = {}  # a value a creation sent that names what it made → its binding
        self.chosen_login = choose_login(catalogue, self.environment)
        self._login: tuple[Login | None, str] | None = None

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def refuse(self, where: str, why: str) -> None:
        reason = f"{where}: {why}"
        if reason not in self.refused:
            self.refused.append(reason)

    def name(self, base: str) -> str:
        base = binding_name(base)
        name, number = base, 1
        while name in self.bindings:
            number += 1
            name = f"{base}_{number}"
        return name

    # -- reading the requirements ------------------------------------------------------------------------

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

    # -- bindings ----------------------------------------------------------------------------------------

    def entity(self, entity: str, operation: Operation, *, name: str | None = None) -> str:
        """The binding creating ``entity`` (one per entity, shared by all that refer to it)."""
        if entity in self.created and name is None:
            return self.created[entity]
        binding = self.call(name or self.name(entity), operation, cleanup=True)
        self.created[entity] = binding
        return binding

    def call(self, name: str, operation: Operation, *, cleanup: bool) -> str:
        self.in_progress.add(operation.operation_id)
        try:
            inputs = self.request_inputs(name, operation)
        finally:
            self.in_progress.discard(operation.operation_id)
        undo = self.cleanup_for(operation, inputs["path"], inputs["body"]) if cleanup else None
        self.bindings[name] = Binding(call=Call(operation=operation.operation_id, **inputs), cleanup=undo)
        return name

    def inputs(self, operation: Operation) -> str:
        """A ``value`` binding with the operation's inputs, for a test step that calls it."""
        name = self.name(operation.operation_id)
        inputs = self.request_inputs(name, operation)
        self.bindings[name] = Binding(value=inputs)
        self.value_operations[name] = operation.operation_id
        self.note(f"data.{name} holds the path, query, headers and body for {operation.operation_id}")
        return name

    def request_inputs(
        self, name: str, operation: Operation, path: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """``path`` (unless given), ``query``, ``headers`` (required ones) and ``body`` of a request of
        ``operation``."""
        inputs: dict[str, Any] = {"path": dict(path or {}), "query": {}, "headers": {}}
        for parameter in operation.parameters:
            if path is not None and parameter.location == "path":
                continue
            if parameter.location == "path" or (
                parameter.location in ("query", "header") and parameter.required
            ):
                where = "headers" if parameter.location == "header" else parameter.location
                inputs[where][parameter.name] = self.parameter_value(name, operation, parameter)
        login = self.login()
        if login is not None and login.operation_id == operation.operation_id:
            inputs["body"] = self.credentials_body(login)
        else:
            inputs["body"] = self.body(name, operation, self.fixed.get(operation.operation_id, {}))
        return inputs

    def parameter_value(self, name: str, operation: Operation, parameter: Parameter) -> Any:
        if parameter.location == "path":
            linked = self.linked(operation, parameter.name)
            if linked is not None:
                return linked
        entity = referenced_entity(parameter.name)
        if entity is None and parameter.name.lower() in ("id", "uuid") and parameter.location == "path":
            entity = _entity_before(operation.path, parameter.name)
        where = f"{operation.operation_id} {{{parameter.name}}}" if parameter.location == "path" else ""
        where = where or f"{operation.operation_id} {parameter.location} {parameter.name}"
        reference = self.reference(entity, where) if entity else None
        if reference is not None:
            return reference
        if parameter.location == "path" and operation.method == "GET" and not _fixed_by(parameter.schema):
            found = self.looked_up(operation, parameter.name, entity)
            if found is not None:
                self.unresolved.pop(where, None)
                return found
        if (entity is not None or parameter.location == "path") and not _fixed_by(parameter.schema):
            why = self.unresolved.pop(where, None) or (
                "no link, producer or response field fills it, and its schema fixes no value"
            )
            self.refuse(where, why)
            return None
        binding = self.name(f"{name}_{parameter.name}")
        self.bindings[binding] = Binding(
            generate=Generate(json_schema=parameter.schema or {"type": "string"})
        )
        return _template(f"data.{binding}")

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
            return _template(f"data.{binding}")
        learnt = [prop for prop in self.learnt.required(operation.operation_id) if prop in properties]
        if learnt:
            self.note(self.learnt.note(operation.operation_id, learnt))
        learnt += [prop for prop in self.sent_optional.get(operation.operation_id, []) if prop not in learnt]
        unwanted = [prop for prop in self.learnt.left_out(operation.operation_id) if prop in properties]
        if unwanted:
            self.note(self.learnt.unwanted_note(operation.operation_id, unwanted))
        required = set(merged.get("required") or []) | set(learnt)
        body: dict[str, Any] = {}
        generated: dict[str, JsonSchema] = {}
        credentials = token_field(operation) is not None  # a login: the environment's own credentials
        for prop in _all_sendable(merged):
            if prop in unwanted and prop not in fixed:
                continue
            entity = self.referred(prop)
            if entity is None and prop in learnt and self.is_relation(prop, properties.get(prop)):
                entity = snake(singular(prop))  # a relation the SUT requires: the key of a created one
            named = self.named_entity(prop)
            if prop in fixed:
                body[prop] = fixed[prop]
            elif credentials and (prop in self.secrets or prop in self.variables):
                body[prop] = _template(f"secrets.{prop}" if prop in self.secrets else f"env.{prop}")
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
                elif _fixed_by(properties.get(prop)):
                    generated[prop] = properties[prop]
                else:
                    self.refuse(where, self.unresolved.pop(where, f"nothing fills the {entity} it refers to"))
            elif prop in generated_properties(merged) or prop in learnt:
                generated[prop] = properties.get(prop, {})
        for prop in self.learnt.refused(operation.operation_id):
            if prop in generated and (slug := _as_slug(generated[prop])) is not None:
                generated[prop] = slug
                self.note(f"{operation.operation_id}.{prop}: sent as a slug (the SUT refused its value)")
        if generated:
            fields = self.name(f"{name}_fields")
            wanted = dict.fromkeys(
                [*(merged.get("required") or []), *learnt]
            )  # a field learnt and required: once
            keep = [prop for prop in wanted if prop in generated]
            part = {"type": "object", "properties": generated, "required": keep}
            self.bindings[fields] = Binding(generate=Generate(json_schema=part))
            for prop in generated:
                body[prop] = _template(f"data.{fields}['{prop}']")
        return body

    def referred(self, prop: str) -> str | None:
        """The entity a property refers to: any for ``<entity>Id`` / ``_uuid``; for ``<entity>_key`` /
        ``_ref`` only one the description knows as a resource (a path segment names its collection, or an
        operation creates one): ``task_key`` of an API without tasks is a plain value (a key the client
        chooses), not a reference to something to create or look up."""
        entity = referenced_entity(prop)
        if entity is None or not snake(prop).endswith(("_key", "_ref")):
            return entity
        segments = {
            snake(singular(part.replace("-", "_")))
            for operation in self.catalogue.operations.values()
            for part in static_segments(operation.path)
        }
        if entity in segments or producer_of(self.catalogue, entity) is not None:
            return entity
        return None

    def is_relation(self, prop: str, schema: JsonSchema | None) -> bool:
        """Whether a property named after an entity of the API (``role``, ``flow`` beside ``POST /roles``,
        ``POST /flows``) holds a scalar: that entity's key, as CMSs write relations."""
        if (
            not isinstance(schema, dict)
            or "properties" in schema
            or schema.get("type") in ("object", "array")
        ):
            return False
        return producer_of(self.catalogue, snake(singular(prop))) is not None

    def lists_entities(self, prop: str, schema: JsonSchema | None) -> bool:
        """Whether a property is a list of names or keys of an entity the API creates (``work_queue_names``,
        ``deployment_ids``)."""
        key = snake(prop)
        ending = next((end for end in ("_names", "_ids", "_keys") if key.endswith(end)), None)
        if ending is None or len(key) <= len(ending) or not _an_array(schema):
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

    def reference(self, entity: str, where: str, *, field: str | None = None) -> str | None:
        """``{{ data.<binding>.<id> }}`` of a created ``entity`` (or its ``field``), creating it first;
        None when no operation creates it (or creating it would need itself)."""
        producer = producer_of(self.catalogue, entity)
        if producer is None:
            self.unresolved[where] = f"it refers to {_a(entity)}, and no operation creates one"
            return None
        if producer.operation_id in self.in_progress or len(self.in_progress) > MAX_DEPTH:
            self.unresolved[where] = f"it refers to {_a(entity)}, and creating one would need itself"
            return None
        binding = self.entity(entity, producer)
        if field is not None:
            found = field_path(resource_of(producer)[0], field)
            self.note(f"{where}: the {field} of the {entity} created with {producer.operation_id}")
            return _template(f"data.{binding}.{found}")
        self.note(f"{where}: the id of the {entity} created with {producer.operation_id}")
        return _template(f"data.{binding}.{id_field(producer)}")

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
                return _template(f"data.{binding}.{pointer}")
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
                return _template(f"data.{binding}.{found}")
            if parameter in _required(collection.request_schema):
                # The answer does not say it (``201`` without a body), the request did: the item is
                # named by the value its creation sent (``POST /runs/{id}/input`` with ``{"key": …}``).
                binding = self.entity(entity_of(collection), collection)
                call = self.bindings[binding].call
                sent = call.body.get(parameter) if call is not None and isinstance(call.body, dict) else None
                if isinstance(sent, str):
                    self.note(f"{where}: the {parameter} {collection.operation_id} sent")
                    self.sent_names[sent] = binding
                    return sent
        entities = [referenced_entity(parameter), self.named_entity(parameter)]
        entities.append(_entity_before(operation.path, parameter))
        for entity in dict.fromkeys(entity for entity in entities if entity):
            producer = producer_of(self.catalogue, entity)
            if producer is None or not self.may_create(producer):
                continue
            found = field_for(producer, parameter, entity)
            if found is not None:
                binding = self.entity(entity, producer)
                self.note(f"{where}: $.{found} of the {entity} created with {producer.operation_id}")
                return _template(f"data.{binding}.{found}")
        for entity in dict.fromkeys(entity for entity in entities if entity):
            held = self.held_by(entity) if producer_of(self.catalogue, entity) is None else None
            if held is not None and (parameter.lower() in ("id", "uuid") or referenced_entity(parameter)):
                producer, found = held
                binding = self.entity(entity_of(producer), producer)
                self.note(
                    f"{where}: $.{found} of the {entity_of(producer)} created with {producer.operation_id}"
                )
                return _template(f"data.{binding}.{found}")
        if parameter.lower() in _GENERIC_IDENTIFIERS:
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
            return _template(f"data.{binding}.{found}")
        return None

    def looked_up(self, operation: Operation, parameter: str, entity: str | None) -> str | None:
        """For a read of an item nothing creates (``GET /activity/{id}``: what the server records), the
        field of the first item its collection's listing answers (``GET /activity``, ``$.data[0].id``): a
        ``lookup``, which reads and makes nothing. None without a listing that needs no input, or whose
        items lack the field."""
        marker = "/{" + parameter + "}"
        if marker not in operation.path:
            return None
        collection = operation.path[: operation.path.index(marker)].rstrip("/")
        for lister in self.catalogue.operations.values():
            if lister.method != "GET" or lister.path.rstrip("/") != collection or "{" in lister.path:
                continue
            if any(other.required for other in lister.parameters):
                continue
            found = _first_listed(lister.success_schema(), parameter)
            if found is None:
                continue
            name = self.name(f"{entity or parameter}_found")
            self.bindings[name] = Binding(lookup=Lookup(operation=lister.operation_id, select=found))
            where = f"{operation.operation_id} {{{parameter}}}"
            self.note(f"{where}: {found} of {lister.operation_id} (an existing one)")
            return _template(f"data.{name}")
        return None

    def send_optional(self, producer: Operation, parameter: str) -> None:
        """A path parameter filled by a field the creation answers and may be sent (``/artifacts/{key}``
        after ``POST /artifacts`` with an optional ``key``): the creation sends it, or the server may leave
        it null and the path could not be filled."""
        sendable = properties_of(object_schema(producer.request_schema))
        name = next((name for name in sendable if snake(name) == snake(parameter)), None)
        if name is None or snake(name) in ("id", "uuid") or sendable[name].get("readOnly"):
            return  # its own id is the server's to give
        if name not in _required(producer.request_schema):
            self.sent_optional.setdefault(producer.operation_id, []).append(name)
            self.note(f"{producer.operation_id} sends {name}: {{{parameter}}} is its {name}")

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
        return None

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

    def signed_in_field(self, parameter: str) -> tuple[str, str] | None:
        """(the template, ``$.path``) of the field of that name in the log-in's answer (``$.user.username``),
        planning the log-in; None without a log-in answering its token in its body, or without that field."""
        login = self.login()
        if login is None or not login.in_body:
            return None
        key, properties = resource_of(login.operation)
        name = next((name for name in properties if snake(name) == snake(parameter)), None)
        if name is None:
            return None
        path = field_path(key, name)
        return _template(f"data.{self.login_binding()}.{path}"), f"$.{path}"

    def may_create(self, producer: Operation) -> bool:
        return producer.operation_id not in self.in_progress and len(self.in_progress) <= MAX_DEPTH

    def cleanup_for(
        self, operation: Operation, created_with: dict[str, Any], sent: Any = None
    ) -> Request | None:
        """The request that undoes what ``operation`` makes: the DELETE of the made item, else the DELETE
        on the creation's own path (an action or a sub-resource: favorite / unfavorite). None when nothing
        undoes it: noted when it belongs to entities the plan creates and deletes (``POST
        /pets/{petId}/uploadImage``: it goes with the pet), refused otherwise unless leftovers are allowed."""
        parent = parent_left_to_server(self.catalogue, operation)
        if parent is not None:
            self.leave(
                operation.operation_id,
                f"its request cannot name the {parent} what it creates belongs to, so the SUT picks one or "
                "makes one that nothing in the plan undoes",
            )
        found = undoer_of(self.catalogue, operation)
        if found is None and created_with and self.from_created(created_with):
            self.note(
                f"nothing undoes what {operation.operation_id} makes: it goes with what it belongs to, which "
                "the plan creates and deletes"
            )
            return None
        if found is None:
            self.leave(
                operation.operation_id,
                "nothing undoes what it creates (no DELETE of the item it makes or on its own path)",
            )
            return None
        deleter, parameter = found
        if parameter is None:  # the same path: the creation's own path parameters
            same = {p.name: created_with[p.name] for p in deleter.parameters if p.name in created_with}
            self.note(f"{deleter.operation_id} undoes what {operation.operation_id} makes (the same path)")
            return Request(operation=deleter.operation_id, path=same)
        field = field_for(operation, parameter)
        if field is None and isinstance(sent, dict) and isinstance(sent.get(parameter), str | int):
            path = {parameter: sent[parameter]}  # named by what its creation sent, not in its answer
        else:
            path = {parameter: _template(f"self.{field or id_field(operation)}")}
        for other in deleter.parameters:  # nested collections: the parent's id, as the creation had it
            if other.location == "path" and other.name != parameter and other.name in created_with:
                path[other.name] = created_with[other.name]
        return Request(operation=deleter.operation_id, path=path)

    def creates(self, operation: Operation) -> bool:
        return creates(self.catalogue, operation) and not self.is_login(operation)

    def leave(self, where: str, why: str) -> None:
        """Something the plan would do cannot be undone: refused, unless the test allows leftovers."""
        if self.leftovers:
            self.note(f"{where}: {why}: it is left in the SUT (the test allows leftovers)")
        else:
            self.refuse(where, f"{why}; {LEFTOVERS_HINT}")

    def from_created(self, values: Mapping[str, Any]) -> bool:
        """Whether every value is the field of an entity this plan creates and deletes."""
        made = {name for name in self.created.values() if self.bindings[name].cleanup is not None}
        rest = {
            key: value
            for key, value in values.items()
            if not (isinstance(value, str) and self.sent_names.get(value) in made)
        }
        return refer_to(rest, made)

    def path_inputs(self, name: str, operation: Operation) -> dict[str, Any]:
        return {
            parameter.name: self.parameter_value(name, operation, parameter)
            for parameter in operation.parameters
            if parameter.location == "path"
        }

    def update(self, name: str, operation: Operation) -> None:
        """A request that changes what its path addresses. On entities this plan created it needs no undo
        (they are deleted); on anything else (``PUT /user``) the previous representation is read first and
        written back after the run (``restore.py``), or — when it cannot be — the update is refused unless
        the test allows leftovers."""
        self.in_progress.add(operation.operation_id)
        try:
            path = self.path_inputs(name, operation)
            if path and self.from_created(path):
                self.bindings[name] = Binding(
                    call=Call(operation=operation.operation_id, **self.request_inputs(name, operation, path))
                )
                return
            named = None if path else self.named_in_body(operation)
            if named is not None:  # PUT /pets {"id": …}: an update of the pet its body names, created first
                self.fixed[operation.operation_id] = {**self.fixed.get(operation.operation_id, {}), **named}
                inputs = self.request_inputs(name, operation, path)
                self.bindings[name] = Binding(call=Call(operation=operation.operation_id, **inputs))
                return
            restore = restore_for(self.catalogue, operation, self.secrets)
            if isinstance(restore, str):
                self.leave(
                    operation.operation_id, f"it changes something the plan did not create and {restore}"
                )
                self.bindings[name] = Binding(
                    call=Call(operation=operation.operation_id, **self.request_inputs(name, operation, path))
                )
                return
            before = self.name(f"{name}_before")
            getter_path = {key: value for key, value in path.items() if restore.getter.parameter(key, "path")}
            self.bindings[before] = Binding(
                lookup=Lookup(operation=restore.getter.operation_id, path=getter_path)
            )
            inputs = self.request_inputs(name, restore.sent, path)
            undo = Request(operation=operation.operation_id, path=path, body=restore.body(before))
            call = Call(operation=operation.operation_id, **inputs)
            self.bindings[name] = Binding(depends_on=[before], call=call, cleanup=undo)
            fields = ", ".join(restore.fields)
            self.note(
                f"{operation.operation_id} changes something the plan did not create: data.{before} keeps it "
                f"as {restore.getter.operation_id} answers it, and the cleanup writes back {fields}"
            )
        finally:
            self.in_progress.discard(operation.operation_id)

    def named_in_body(self, operation: Operation) -> dict[str, Any] | None:
        """For an update on a collection's own path whose body names the item by its id (``PUT /pet`` with
        ``{"id": …}`` beside ``POST /pet``), or the items by a list of their keys (``PATCH /folders`` with
        ``{"keys": […], "data": …}``: ``keys``, ``ids`` or the id's plural): that field, filled with the id of
        an entity the plan creates (and deletes). None when the update is not of that shape."""
        producer = producer_of(self.catalogue, entity_of(operation))
        if producer is None or producer.path.rstrip("/") != operation.path.rstrip("/"):
            return None
        field = id_field(producer)
        properties = properties_of(object_schema(operation.request_schema))
        own = field if "." not in field and field in properties else None
        leaf = field.rsplit(".", 1)[-1]
        listed = next((name for name in (f"{leaf}s", "keys", "ids") if _is_array(properties.get(name))), None)
        if own is None and listed is None:
            return None
        if not self.may_create(producer) or not self.creates(producer):
            return None
        binding = self.entity(entity_of(producer), producer)
        if self.bindings[binding].cleanup is None:
            return None
        created = _template(f"data.{binding}.{field}")
        if own is not None:
            self.note(f"{operation.operation_id} {own}: the id of the {entity_of(producer)} the plan creates")
            return {own: created}
        assert listed is not None, "one of the two, checked above"
        self.note(f"{operation.operation_id} {listed}: the id of the {entity_of(producer)} the plan creates")
        return {listed: [created]}

    def removal(self, name: str, operation: Operation) -> None:
        """A DELETE: of an entity this plan created (it is created first), else refused unless the test
        allows leftovers (nothing brings back what it deletes)."""
        self.in_progress.add(operation.operation_id)
        try:
            path = self.path_inputs(name, operation)
            if not (path and self.from_created(path)):
                self.leave(operation.operation_id, "it deletes something the plan did not create")
            inputs = self.request_inputs(name, operation, path)
            self.bindings[name] = Binding(call=Call(operation=operation.operation_id, **inputs))
        finally:
            self.in_progress.discard(operation.operation_id)

    def schema(self, name: str) -> None:
        found = _component(self.catalogue, name)
        if found is None:
            self.note(f"schema {name} is not used by any operation of the API description: skipped")
            return
        binding = self.name(name)
        self.bindings[binding] = Binding(generate=Generate(json_schema=found))
        self.note(f"data.{binding} is a generated {name}")

    # -- authentication ----------------------------------------------------------------------------------

    def authenticate(self) -> None:
        """Credentials per operation: each secured operation accepts any one of its security schemes. The
        default headers use the scheme that serves the most of them (the test's own operations first: they
        only get the defaults); a planned call or cleanup the defaults do not serve (or whose scheme goes in
        the query) gets its own headers or query from another of its schemes the environment can satisfy."""
        uses = self.secured_uses()
        schemes = sorted({name for _, _, accepted in uses for name in accepted})
        usable = {name: rank for name in schemes if (rank := self.credential_rank(name)) is not None}
        for name in schemes:
            if name not in usable:
                self.note(self.missing_credential(self.catalogue.security_schemes[name]))
        if not usable:
            return

        def preference(name: str) -> tuple[int, int, int, str]:
            served = [where for _, where, accepted in uses if name in accepted]
            return (-served.count("value"), -len(served), usable[name], name)

        in_headers = [name for name in usable if not _in_query(self.catalogue.security_schemes[name])]
        default = min(in_headers, key=preference) if in_headers else None
        if default is not None:
            self.headers.update(self.scheme_sent(default).headers)
        for binding, where, accepted in uses:
            options = sorted((name for name in accepted if name in usable), key=lambda n: (usable[n], n))
            if not options or any(self.served_by_defaults(name) for name in options):
                continue
            sent = self.scheme_sent(options[0])
            if where == "value":
                operation = self.value_operations[binding]
                needs = f"{operation} needs {options[0]}" + (f", not {default}" if default else "")
                self.note(f"data.{binding}: {needs}: send {sent.described()}")
                continue
            found = self.bindings[binding]
            request = found.call if where == "call" else found.cleanup
            assert request is not None
            update = {
                "headers": {**request.headers, **sent.headers},
                "query": {**request.query, **sent.query},
            }
            self.bindings[binding] = found.model_copy(update={where: request.model_copy(update=update)})
            names = ", ".join([*sent.headers, *sent.query])
            self.note(f"{binding}: its {where} sends its own {names} for {options[0]}")

    def secured_uses(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """(binding, ``call``, ``cleanup`` or ``value``, the known schemes its operation accepts) of every
        planned request and of every operation whose inputs a value binding holds, when secured."""
        uses: list[tuple[str, str, tuple[str, ...]]] = []
        for name, binding in self.bindings.items():
            requests = {"call": binding.call, "cleanup": binding.cleanup}
            found = {where: request.operation for where, request in requests.items() if request is not None}
            if name in self.value_operations:
                found["value"] = self.value_operations[name]
            for where, operation_id in found.items():
                operation = self.catalogue.get(operation_id)
                security = self.security_of(operation) if operation is not None else ()
                accepted = tuple(scheme for scheme in security if scheme in self.catalogue.security_schemes)
                if accepted:
                    uses.append((name, where, accepted))
        return uses

    def security_of(self, operation: Operation) -> tuple[str, ...]:
        """The schemes an operation accepts; for one that names none, in a description that defines
        schemes but applies them to fewer than half of its operations (its authentication left unsaid,
        not off, as a CMS that serves only signed-in users describes itself), any of them. The log-in
        itself never gets credentials."""
        if operation.security or self.is_login(operation) or not self.catalogue.security_schemes:
            return operation.security
        operations = self.catalogue.operations.values()
        if 2 * sum(1 for other in operations if other.security) >= len(operations):
            return ()
        return tuple(self.catalogue.security_schemes)

    def credential_rank(self, name: str) -> int | None:
        """How well the environment satisfies a scheme (lower is better); None: not at all."""
        found = self.credential(name)
        return None if found is None else found[0]

    def credential(self, name: str) -> tuple[int, str] | None:
        """(rank, what satisfies a scheme: ``secrets.x`` or ``env.x``, ``login`` or ``basic``): 0 a
        credential named for it (``api_key`` for an API key, ``token`` for a bearer token; ``username`` and
        ``password`` secrets for HTTP basic), 1 one under another token name, 2 the token of the API's
        log-in, 3 for a bearer token the credential named for an API key scheme of the API (rather not: it
        is that scheme's); None: the environment cannot."""
        scheme = self.catalogue.security_schemes[name]
        if is_basic(scheme):
            return (0, "basic") if basic_usable(self.secrets) else None
        if not takes_token(scheme):
            return None
        if scheme.type == "apiKey":
            own = self.credential_name(_key_names(scheme))
            generic = self.credential_name()
            if own or generic:
                return (0, own) if own else (1, str(generic))
            return (2, "login") if self.login() is not None else None
        own = self.credential_name(_BEARER_NAMES)
        if own is not None:
            return 0, own
        schemes = self.catalogue.security_schemes.values()
        keys = {key for other in schemes if other.type == "apiKey" for key in _key_names(other)}
        generic = self.credential_name([token for token in TOKEN_NAMES if token not in keys])
        if generic is not None:
            return 1, generic
        if self.login() is not None:
            return 2, "login"
        claimed = self.credential_name()
        return (3, claimed) if claimed is not None else None

    def scheme_sent(self, name: str) -> Sent:
        """What a request carries for a scheme ``credential_rank`` found usable (its log-in planned once)."""
        if name not in self.sent_cache:
            found = self.credential(name)
            assert found is not None, "credential_rank checked it is usable"
            self.sent_cache[name] = self.sent_for(name, found[1], plan_login=True)
        return self.sent_cache[name]

    def sent_for(self, name: str, source: str, *, plan_login: bool) -> Sent:
        scheme = self.catalogue.security_schemes[name]
        if source == "basic":
            if plan_login:
                self.note(f"{name}: HTTP basic from the secrets username and password")
            return send_basic()
        if source == "login":
            login = self.login()
            assert login is not None, "credential_rank checked there is one"
            token = self.login_token(name) if plan_login else f"data.{self.token_binding}.{login.member}"
        else:
            token = source
        sent, how = send_token(scheme, _template(token), self.environment, from_login=source == "login")
        if plan_login and source != "login":
            what = "bearer token" if scheme.type != "apiKey" else f"the {scheme.location} {scheme.parameter}"
            self.note(f"{name}: {what} from {source}" + (f", {how}" if scheme.type == "apiKey" else ""))
        elif plan_login and scheme.type == "apiKey":
            self.note(f"{name}: the token goes in the {scheme.location} {scheme.parameter}, {how}")
        return sent

    def served_by_defaults(self, name: str) -> bool:
        """Whether the default headers already send what a usable scheme needs (planning nothing)."""
        if _in_query(self.catalogue.security_schemes[name]):
            return False
        sent = self.sent_cache.get(name)
        if sent is None:
            found = self.credential(name)
            if found is None or (found[1] == "login" and self.token_binding is None):
                return False
            sent = self.sent_for(name, found[1], plan_login=False)
        return bool(sent.headers) and sent.headers.items() <= self.headers.items()

    def missing_credential(self, scheme: SecurityScheme) -> str:
        login = self.login_problem()
        if scheme.type == "apiKey":
            return (
                f"{scheme.name}: put an API key in a secret named api_key (sent in the {scheme.location})"
                + (f"; or log in: {login}" if login else "")
            )
        if is_basic(scheme):
            return f"{scheme.name}: HTTP basic needs the secrets username and password"
        if not takes_token(scheme):
            return f"{scheme.name}: HTTP {scheme.scheme or type} auth is not planned; set a default header"
        return f"{scheme.name}: the operations need a token; add a secret named token" + (
            f", or log in: {login}" if login else ""
        )

    def credential_name(self, names: Collection[str] = TOKEN_NAMES) -> str | None:
        """``secrets.<name>`` or ``env.<name>`` of the first of ``names`` the environment has (secrets
        first)."""
        for name in names:
            if name in self.secrets:
                return f"secrets.{name}"
        for name in names:
            if name in self.variables:
                return f"env.{name}"
        return None

    def wait_for_sent_names(self) -> None:
        """A call whose path names an item by the value its creation sent (``sent_names``) refers to that
        value, not to the creation: it is made to wait for the creation (``depends_on``)."""
        for name, binding in self.bindings.items():
            if binding.call is None:
                continue
            paths = [value for value in binding.call.path.values() if isinstance(value, str)]
            creations = [self.sent_names[value] for value in paths if value in self.sent_names]
            waits = [creation for creation in creations if creation != name]
            if waits:
                depends = list(dict.fromkeys([*binding.depends_on, *waits]))
                self.bindings[name] = binding.model_copy(update={"depends_on": depends})

    # -- the log-in --------------------------------------------------------------------------------------

    def is_login(self, operation: Operation) -> bool:
        """Whether ``operation`` is the API's log-in (whatever credentials the environment has)."""
        chosen = self.chosen_login[0]
        return chosen is not None and chosen.operation_id == operation.operation_id

    def login(self) -> Login | None:
        """The API's log-in when the environment has the credentials its body requires."""
        return self.login_choice()[0]

    def login_problem(self) -> str:
        found, why = self.login_choice()
        return "" if found is not None else why

    def login_choice(self) -> tuple[Login | None, str]:
        if self._login is None:
            found, why = self.chosen_login
            if found is not None:
                missing = [path for path in found.required if not self.credential_of(path[-1])]
                if missing:
                    fields = ", ".join(".".join(path) for path in missing)
                    names = ", ".join(dict.fromkeys(path[-1] for path in missing))
                    why = f"{found.operation_id} needs {fields}: set secrets named {names}"
                    found = None
            self._login = (found, why)
        return self._login

    def credential_of(self, name: str) -> str | None:
        """``secrets.<name>`` or ``env.<name>``: the environment's value for a log-in field of that name."""
        if name in self.secrets:
            return f"secrets.{name}"
        return f"env.{name}" if name in self.variables else None

    def credentials_body(self, login: Login) -> dict[str, Any] | None:
        """The log-in's body: each of its fields the environment has, at its place (``{"user": {"email":
        "{{ secrets.email }}", …}}``)."""
        body: dict[str, Any] = {}
        for path in login.fields:
            source = self.credential_of(path[-1])
            if source is None:
                continue
            place = body
            for key in path[:-1]:
                place = place.setdefault(key, {})
            place[path[-1]] = _template(source)
        return body or None

    def login_token(self, scheme: str) -> str:
        """``data.<binding>.<the token's path>`` of the log-in's call (planned first, once)."""
        login = self.login()
        assert login is not None, "credential_rank checked there is one"
        self.login_binding()
        fields = [path[-1] for path in login.fields if self.credential_of(path[-1])]
        self.note(f"{scheme}: a token from {login.operation_id} with {', '.join(fields) or 'no input'}")
        return f"data.{self.token_binding}.{login.member}"

    def login_binding(self) -> str:
        """The binding calling the log-in (planned first, once)."""
        login = self.login()
        assert login is not None, "called only with a log-in"
        if self.token_binding is None:
            self.token_binding = self.name("auth")
            # A token in the body is read from the answer as it is (``data.auth.user.token``, as tests
            # written against the plan's answer expect); one in a header is captured (``data.auth.token``).
            capture = {} if login.in_body else {"token": login.token}
            call = Call(operation=login.operation_id, body=self.credentials_body(login), capture=capture)
            self.bindings = {self.token_binding: Binding(call=call)} | self.bindings
            self.note(self.login_choice()[1])
        return self.token_binding

    def plan(self, seed: int | None) -> DataPlan:
        if self.refused:
            raise PlanRefused(self.refused)
        self.authenticate()
        self.wait_for_sent_names()
        return DataPlan(
            seed=seed, notes=self.notes, defaults=Defaults(headers=self.headers), bindings=self.bindings
        )


def _required(schema: JsonSchema | None) -> list[str]:
    merged = object_schema(schema)
    return list(merged.get("required") or []) if merged is not None else []


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


def _first_listed(schema: JsonSchema | None, parameter: str) -> str | None:
    """``$[0].<field>`` (or ``$.<list>[0].<field>`` in an envelope with one list of objects) of a listing
    whose items have the field filling ``parameter`` (``id`` for ``{id}``); None otherwise."""
    if not isinstance(schema, dict):
        return None
    base, items = "$", None
    if schema.get("type") == "array":
        items = schema.get("items")
    else:
        lists = [
            (key, sub.get("items"))
            for key, sub in properties_of(schema).items()
            if isinstance(sub, dict) and sub.get("type") == "array" and properties_of(sub.get("items"))
        ]
        if len(lists) == 1:
            base, items = f"$.{lists[0][0]}", lists[0][1]
    fields = properties_of(items)
    name = next((name for name in fields if snake(name) == snake(parameter)), None)
    return f"{base}[0].{name}" if name is not None else None


def _template(expression: str) -> str:
    return "{{ " + expression + " }}"


def _fixed_by(schema: JsonSchema | None) -> bool:
    """Whether a schema itself gives the value to send (an enum, a constant, an example or a default)."""
    if not isinstance(schema, dict):
        return False
    return any(key in schema for key in ("enum", "const", "example", "default")) or bool(
        schema.get("examples")
    )


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _in_query(scheme: SecurityScheme) -> bool:
    return scheme.type == "apiKey" and scheme.location == "query"


def _is_array(schema: JsonSchema | None) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "array"


def _an_array(schema: JsonSchema | None) -> bool:
    """An array, or an array or null (``anyOf``/``oneOf``, ``type: [array, null]``)."""
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    if kind == "array" or (isinstance(kind, list) and "array" in kind):
        return True
    parts = [*(schema.get("anyOf") or []), *(schema.get("oneOf") or [])]
    return any(_is_array(part) for part in parts)


def _all_sendable(schema: JsonSchema) -> list[str]:
    """Every property a client may send (not readOnly), in the order of the schema."""
    properties = schema.get("properties") or {}
    names = [p for p, sub in properties.items() if not (isinstance(sub, dict) and sub.get("readOnly"))]
    return names + [p for p in schema.get("required") or [] if p not in names]


def _key_names(scheme: SecurityScheme) -> list[str]:
    """Names of a credential meant for an API key scheme: its parameter's and its own (``X-Api-Key`` →
    ``x_api_key``), then ``api_key`` and ``apikey``."""
    names = [scheme.parameter, scheme.name]
    names += [re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") for name in names]
    return list(dict.fromkeys(name for name in [*names, "api_key", "apikey"] if name))


def _enum_of(schema: JsonSchema) -> list[Any]:
    if isinstance(schema.get("enum"), list):
        return list(schema["enum"])
    options: list[Any] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key) or []:
            if isinstance(part, dict):
                options += _enum_of(part)
    return options


def _entity_before(path: str, parameter: str) -> str | None:
    parts = [part for part in path.strip("/").split("/") if part]
    marker = "{" + parameter + "}"
    if marker in parts:
        index = parts.index(marker)
        if index > 1 and parts[index - 1].lower() in (parameter.lower(), f"by-{parameter.lower()}"):
            index -= 1  # ``/variables/name/{name}``: the collection is before the word naming the key
        if index > 0 and not parts[index - 1].startswith("{"):
            return snake(singular(parts[index - 1]))
    return None


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
