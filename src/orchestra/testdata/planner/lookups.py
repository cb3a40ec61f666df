"""Reading an item nothing creates: a path parameter of a GET filled with the field of the first item its
collection's listing answers (``GET /activity/{id}`` with ``$.data[0].id`` of ``GET /activity``), a
``lookup`` that reads and makes nothing. So is an item of a kind the SUT does not let this user create
(its creation answered 403): what needs one takes an existing one from the listing on the creation's path
(``GET /collections``, ``$.data[0].collection``)."""

from __future__ import annotations

from orchestra.openapi.operations import JsonSchema, Operation
from orchestra.testdata.planner.entities import is_array, properties_of
from orchestra.testdata.planner.plan_state import PlanState, template
from orchestra.testdata.plans.dataplan_model import Binding, Lookup
from orchestra.testdata.values.name_hints import snake


class Lookups(PlanState):
    """Reads an existing item from its collection's listing (see the module docstring)."""

    def looked_up(self, operation: Operation, parameter: str, entity: str | None) -> str | None:
        """For a read of an item nothing creates (``GET /activity/{id}``: what the server records), the
        field of the first item its collection's listing answers (``GET /activity``, ``$.data[0].id``): a
        ``lookup``, which reads and makes nothing. None without a listing that needs no input, or whose
        items lack the field."""
        marker = "/{" + parameter + "}"
        if marker not in operation.path:
            return None
        collection = operation.path[: operation.path.index(marker)]
        return self.first_listed(collection, parameter, entity, f"{operation.operation_id} {{{parameter}}}")

    def first_listed(self, collection: str, field: str, entity: str | None, where: str) -> str | None:
        """``field`` of the first item the listing on ``collection`` answers (a GET that needs no input), as
        a ``lookup`` (one per listing and field); None without such a listing, or whose items lack it."""
        for lister in self.catalogue.operations.values():
            if (
                lister.method != "GET"
                or lister.path.rstrip("/") != collection.rstrip("/")
                or "{" in lister.path
            ):
                continue
            if any(other.required for other in lister.parameters):
                continue
            found = _first_listed(lister.success_schema(), field)
            if found is None:
                continue
            lookup = Lookup(operation=lister.operation_id, select=found)
            name = next((key for key, made in self.bindings.items() if made.lookup == lookup), None)
            if name is None:
                name = self.name(f"{entity or field}_found")
                self.bindings[name] = Binding(lookup=lookup)
            self.note(f"{where}: {found} of {lister.operation_id} (an existing one)")
            return template(f"data.{name}")
        return None


def _first_listed(schema: JsonSchema | None, parameter: str) -> str | None:
    """``$[0].<field>`` (or ``$.<list>[0].<field>`` in an envelope with one list of objects) of a listing
    whose items have the field filling ``parameter`` (``id`` for ``{id}``); None otherwise."""
    if not isinstance(schema, dict):
        return None
    base, items = "$", None
    if is_array(schema):
        items = schema.get("items")
    else:
        lists = [
            (key, sub.get("items"))
            for key, sub in properties_of(schema).items()
            if is_array(sub) and properties_of(sub.get("items"))
        ]
        if len(lists) == 1:
            base, items = f"$.{lists[0][0]}", lists[0][1]
    fields = properties_of(items)
    name = next((name for name in fields if snake(name) == snake(parameter)), None)
    return f"{base}[0].{name}" if name is not None else None
