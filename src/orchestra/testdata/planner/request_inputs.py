"""The requests of a plan and their inputs: the creation of an entity (one per entity, shared by all that
refer to it, with the undo of what it makes), a plain call, a value binding holding an operation's inputs
for a test step, and each input: a path parameter linked, referred or looked up (refused when nothing
determines it and its schema fixes no value), the required query parameters and headers, and the body (the
log-in's credentials for the log-in)."""

from __future__ import annotations

from typing import Any

from orchestra.openapi.operations import Operation, Parameter
from orchestra.testdata.planner.bodies import Bodies
from orchestra.testdata.planner.links import PathLinks, entity_before
from orchestra.testdata.planner.plan_state import template
from orchestra.testdata.planner.schema_facts import fixed_by
from orchestra.testdata.planner.undo_choice import UndoChoice
from orchestra.testdata.plans.dataplan_model import Binding, Call, Generate
from orchestra.testdata.values.name_hints import referenced_entity


class RequestInputs(Bodies, PathLinks, UndoChoice):
    """Plans creations, calls and value bindings with all their inputs (see the module docstring)."""

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
        if entity is None and parameter.location == "path":
            entity = self.entity_named(
                parameter.name, parameter.schema
            )  # ``{collection}``: a collection's key
        if entity is None and parameter.name.lower() in ("id", "uuid") and parameter.location == "path":
            entity = entity_before(operation.path, parameter.name)
        where = f"{operation.operation_id} {{{parameter.name}}}" if parameter.location == "path" else ""
        where = where or f"{operation.operation_id} {parameter.location} {parameter.name}"
        # An existing item, taken for a kind this user may not create, is only read through its path: what
        # is made below it or changed in it (a field of a table, its settings) is refused rather than
        # written back from what a description says its reads answer.
        existing = parameter.location != "path" or operation.method == "GET"
        reference = self.reference(entity, where, existing=existing) if entity else None
        if reference is not None:
            return reference
        if parameter.location == "path" and operation.method == "GET" and not fixed_by(parameter.schema):
            found = self.looked_up(operation, parameter.name, entity)
            if found is not None:
                self.unresolved.pop(where, None)
                return found
        if (entity is not None or parameter.location == "path") and not fixed_by(parameter.schema):
            why = self.unresolved.pop(where, None) or (
                "no link, producer or response field fills it, and its schema fixes no value"
            )
            self.refuse(where, why)
            return None
        binding = self.name(f"{name}_{parameter.name}")
        self.bindings[binding] = Binding(
            generate=Generate(json_schema=parameter.schema or {"type": "string"})
        )
        return template(f"data.{binding}")

    def path_inputs(self, name: str, operation: Operation) -> dict[str, Any]:
        return {
            parameter.name: self.parameter_value(name, operation, parameter)
            for parameter in operation.parameters
            if parameter.location == "path"
        }
