"""Choosing the undo of what a planned call makes: the DELETE of the made item (named by a field of its
answer, or by what its creation sent; for an action that makes an item by the name it sends, that item's),
else the DELETE on the creation's own path, else an action's inverse (``decrement`` after ``increment``,
``actions.py``); none when it goes with entities the plan creates and deletes (by its path, or — for an
action on what its body names — by its body). What cannot be undone is refused, unless the test allows
leftovers (then it is noted). Which operations create and what any plan leaves behind is ``undo.py``'s to
say."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestra.openapi.operations import Operation
from orchestra.testdata.planner.actions import acts_on, inverse_of, item_made_by_action
from orchestra.testdata.planner.entities import (
    field_for,
    field_path,
    id_field,
    parent_left_to_server,
    resource_of,
    undoer_of,
)
from orchestra.testdata.planner.plan_state import PlanState, template
from orchestra.testdata.planner.schema_facts import required_fields
from orchestra.testdata.planner.undo import LEFTOVERS_HINT, refer_to
from orchestra.testdata.plans.dataplan_model import Request


class UndoChoice(PlanState):
    """Chooses the cleanup of a planned call, or refuses (or notes) what nothing undoes."""

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
        found = undoer_of(self.catalogue, operation) or item_made_by_action(self.catalogue, operation)
        inverse = self.inverse_undo(operation, created_with, sent) if found is None else None
        if inverse is not None:
            return inverse
        if found is None and self.acts_on_created(operation, sent):
            self.note(
                f"nothing undoes what {operation.operation_id} does: it acts on what its body names, which "
                "the plan creates and deletes"
            )
            return None
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
            path = {parameter: template(f"self.{field or id_field(operation)}")}
        for other in deleter.parameters:  # nested collections: the parent's id, as the creation had it
            if other.location == "path" and other.name != parameter and other.name in created_with:
                path[other.name] = created_with[other.name]
        return Request(operation=deleter.operation_id, path=path)

    def inverse_undo(self, operation: Operation, created_with: dict[str, Any], sent: Any) -> Request | None:
        """The inverse action as the undo of an action (``actions.inverse_of``: ``decrement`` after
        ``increment``), each field its body requires taken from the action's answer (``lease_id``) or, when
        the answer has no such field, from what the action sent (``names``, ``slots``); its path
        parameters as the action had them. None without an inverse, or when one of those is missing."""
        inverse = inverse_of(self.catalogue, operation)
        if inverse is None:
            return None
        key, answered = resource_of(operation)
        body: dict[str, Any] = {}
        for prop in required_fields(inverse.request_schema):
            if prop in answered:
                body[prop] = template(f"self.{field_path(key, prop)}")
            elif isinstance(sent, dict) and prop in sent:
                body[prop] = sent[prop]
            else:
                return None
        path: dict[str, Any] = {}
        for parameter in inverse.parameters:
            if parameter.location == "path" and parameter.name in created_with:
                path[parameter.name] = created_with[parameter.name]
            elif parameter.location == "path" or parameter.required:
                return None
        self.note(f"{inverse.operation_id} undoes what {operation.operation_id} does (its inverse)")
        sends = body if body or inverse.request_schema is not None else None
        return Request(operation=inverse.operation_id, path=path, body=sends)

    def acts_on_created(self, operation: Operation, sent: Any) -> bool:
        """Whether an action only acts on what its body names and all of that is made and deleted by this
        plan (``actions.acts_on``): it goes with them."""
        made = {name for name in self.created.values() if self.bindings[name].cleanup is not None}
        return acts_on(self.catalogue, operation, sent, made)

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
