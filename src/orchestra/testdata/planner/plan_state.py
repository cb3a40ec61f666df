"""The plan being built and the planner's bookkeeping: the bindings made so far, the notes that explain them,
the inputs refused (and why), the entities created (and by which binding), the operations being planned
(a creation that would need itself is refused, and nesting is bounded), and the names bindings get. Every rule
of the built-in planner (``builtin.py`` composes them) works on this state."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from typing import Any

from orchestra.openapi.operations import Catalogue, Operation
from orchestra.testdata.planner.login import Login, choose_login
from orchestra.testdata.planner.refusals import Lessons
from orchestra.testdata.planner.security import Sent
from orchestra.testdata.plans.dataplan_model import Binding
from orchestra.testdata.values.name_hints import snake

MAX_DEPTH = 8


def binding_name(text: str) -> str:
    """The binding a plan names after ``text`` when nothing took that name first: for ``operations``,
    ``data.<binding_name(operation_id)>`` holds the operation's inputs (``createOrder``: ``create_order``)."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", snake(text))[:56] or "value"
    return base if re.match(r"[A-Za-z_]", base) else f"_{base}"


def template(expression: str) -> str:
    return "{{ " + expression + " }}"


class PlanState(ABC):
    """What every rule of the planner reads and adds to while a plan is built."""

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

    def may_create(self, producer: Operation) -> bool:
        """Whether a prerequisite may be made with ``producer``: not one being planned (it would need
        itself), not too deep, and not one the SUT refused this user (403)."""
        return (
            producer.operation_id not in self.in_progress
            and len(self.in_progress) <= MAX_DEPTH
            and producer.operation_id not in self.learnt.forbidden
        )

    @abstractmethod
    def entity(self, entity: str, operation: Operation, *, name: str | None = None) -> str:
        """The binding creating ``entity`` (``request_inputs.py``). Declared here because the rules that fill
        an input recurse into it: a reference or a path parameter is filled by creating what it refers to,
        whose own inputs may refer to more."""

    @abstractmethod
    def call(self, name: str, operation: Operation, *, cleanup: bool) -> str:
        """The binding ``name`` calling ``operation`` with all its inputs (``request_inputs.py``)."""

    @abstractmethod
    def creates(self, operation: Operation) -> bool:
        """Whether calling ``operation`` makes something to undo (``login_call.py``)."""
