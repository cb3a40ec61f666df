"""Choosing the undo of what a planned call makes: the DELETE of the made item (named by a field of its
answer, or by what its creation sent), else the DELETE on the creation's own path; none when it goes with
entities the plan creates and deletes. What cannot be undone is refused, unless the test allows leftovers
(then it is noted). Which operations create and what any plan leaves behind is ``undo.py``'s to say."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestra.openapi.operations import Operation
from orchestra.testdata.planner.entities import field_for, id_field, parent_left_to_server, undoer_of
from orchestra.testdata.planner.plan_state import PlanState, template
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
            path = {parameter: template(f"self.{field or id_field(operation)}")}
        for other in deleter.parameters:  # nested collections: the parent's id, as the creation had it
            if other.location == "path" and other.name != parameter and other.name in created_with:
                path[other.name] = created_with[other.name]
        return Request(operation=deleter.operation_id, path=path)

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
