"""Requests that change or delete what exists. On entities the plan creates (first) they need no undo; an
update on a collection's own path names a created item in its body (``PUT /pet`` with ``{"id": …}``, a list
of keys); an update of anything else is read before and written back after the run (``restore.py``); what
cannot be undone (an update that cannot be restored, the deletion of something the plan did not create) is
refused unless the test allows leftovers."""

from __future__ import annotations

from typing import Any

from orchestra.openapi.operations import Operation
from orchestra.testdata.planner.entities import (
    entity_of,
    id_field,
    is_array,
    object_schema,
    producer_of,
    properties_of,
)
from orchestra.testdata.planner.plan_state import template
from orchestra.testdata.planner.request_inputs import RequestInputs
from orchestra.testdata.planner.restore import restore_for
from orchestra.testdata.plans.dataplan_model import Binding, Call, Lookup, Request


class Changes(RequestInputs):
    """Plans updates and deletions (see the module docstring)."""

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
            if named is None and not path and self.names_in_body(operation) is not None:
                # Its body names the items it changes, and this plan cannot make one to name: sent without
                # them it may change every item, which nothing could write back.
                why = "it changes the items its body names, and this plan makes none to name"
                self.leave(operation.operation_id, why)
                inputs = self.request_inputs(name, operation, path)
                self.bindings[name] = Binding(call=Call(operation=operation.operation_id, **inputs))
                return
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
        shape = self.names_in_body(operation)
        if shape is None:
            return None
        producer, field, own, listed = shape
        if not self.may_create(producer) or not self.creates(producer):
            return None
        binding = self.entity(entity_of(producer), producer)
        if self.bindings[binding].cleanup is None:
            return None
        created = template(f"data.{binding}.{field}")
        if own is not None:
            self.note(f"{operation.operation_id} {own}: the id of the {entity_of(producer)} the plan creates")
            return {own: created}
        assert listed is not None, "one of the two, checked above"
        self.note(f"{operation.operation_id} {listed}: the id of the {entity_of(producer)} the plan creates")
        return {listed: [created]}

    def names_in_body(self, operation: Operation) -> tuple[Operation, str, str | None, str | None] | None:
        """For an update on a collection's own path whose body names its items (``{"id": …}``, or a list
        ``keys``, ``ids`` or the id's plural): the collection's creation, the id's path in its answer, and
        the body field naming one item or the list naming several. None for any other update."""
        producer = producer_of(self.catalogue, entity_of(operation))
        if producer is None or producer.path.rstrip("/") != operation.path.rstrip("/"):
            return None
        field = id_field(producer)
        properties = properties_of(object_schema(operation.request_schema))
        own = field if "." not in field and field in properties else None
        leaf = field.rsplit(".", 1)[-1]
        listed = next((name for name in (f"{leaf}s", "keys", "ids") if is_array(properties.get(name))), None)
        if own is None and listed is None:
            return None
        return producer, field, own, listed

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
