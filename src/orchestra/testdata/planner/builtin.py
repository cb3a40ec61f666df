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

Each concern is a module of its own, composed here: ``requirements.py`` (what ``requires`` and ``schemas``
name), ``request_inputs.py`` (creations, calls and their inputs), ``bodies.py`` (request bodies),
``references.py`` (fields that refer to entities), ``links.py`` (path parameters filled by created
entities' answers), ``lookups.py`` (items nothing creates, read from their listing), ``undo_choice.py`` (the
cleanup of what a call makes), ``changes.py`` (updates and deletions), ``login_call.py`` (the log-in's call),
``credentials.py`` (which credentials each request sends), on the state of ``plan_state.py``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from orchestra.definitions.testcase_model import DataRequirements
from orchestra.openapi.operations import Catalogue
from orchestra.testdata.planner.changes import Changes
from orchestra.testdata.planner.credentials import Credentials
from orchestra.testdata.planner.entities import entity_of, is_collection_post, is_query_post
from orchestra.testdata.planner.refusals import Lessons
from orchestra.testdata.planner.requirements import Requirements
from orchestra.testdata.plans.dataplan_model import DataPlan, Defaults


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


class _Planner(Changes, Requirements, Credentials):
    """Every rule of the planner over one plan state; ``plan`` finishes the plan: credentials, then the order
    of calls that name an item by what its creation sent."""

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

    def plan(self, seed: int | None) -> DataPlan:
        if self.refused:
            raise PlanRefused(self.refused)
        for operation_id in self.learnt.forbidden:  # kept in every plan: a repair made from it still knows
            self.note(self.learnt.forbidden_note(operation_id))
        self.authenticate()
        self.wait_for_sent_names()
        return DataPlan(
            seed=seed, notes=self.notes, defaults=Defaults(headers=self.headers), bindings=self.bindings
        )
