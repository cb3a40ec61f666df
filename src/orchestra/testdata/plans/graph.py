"""The bindings of a plan as a DAG: what each one needs first, in which order and in which waves they run.

A binding depends on its ``depends_on`` and on every ``data.<name>`` its request or cleanup templates use.
A default header that uses ``data.<name>`` (an auth token, typically) makes every call and lookup depend on
that binding, except the binding itself and those it needs: for them the header is not sent.

When a run goes on with a repaired plan, only the values of the bindings the repair left as they were are
kept (``unchanged``): a binding whose definition changed, or that needs one that changed, runs again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestra.testdata.plans.dataplan_model import DataPlan
from orchestra.testdata.plans.templates import (
    TemplateSyntax,
    binding_strings,
    data_references,
    default_header_references,
)


class CycleError(Exception):
    """The bindings depend on each other in a circle; ``cycle`` names it, first name repeated at the end."""

    def __init__(self, cycle: list[str]) -> None:
        super().__init__("dependency cycle: " + " → ".join(cycle))
        self.cycle = cycle


def explicit_dependencies(plan: DataPlan) -> dict[str, set[str]]:
    """``depends_on`` and template references (request and cleanup), unknown names included."""
    deps: dict[str, set[str]] = {}
    for name, binding in plan.bindings.items():
        found = set(binding.depends_on)
        for cleanup in (False, True):
            try:
                found |= data_references(binding_strings(binding, cleanup=cleanup))
            except TemplateSyntax:
                continue  # validation reports it; a template that cannot be parsed references nothing
        deps[name] = found
    return deps


def ancestors(deps: Mapping[str, set[str]], name: str) -> set[str]:
    seen: set[str] = set()
    stack = list(deps.get(name, ()))
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(deps.get(current, ()))
    return seen


def dependencies(plan: DataPlan) -> dict[str, set[str]]:
    """Each binding's dependencies among the plan's bindings (references to unknown names left out)."""
    deps = {
        name: {dep for dep in found if dep in plan.bindings}
        for name, found in explicit_dependencies(plan).items()
    }
    try:
        header_refs = set().union(*default_header_references(plan).values())
    except TemplateSyntax:
        header_refs = set()
    header_refs &= plan.bindings.keys()
    for name, binding in plan.bindings.items():
        if binding.call is None and binding.lookup is None:
            continue
        for needed in header_refs:
            if needed != name and name not in ancestors(deps, needed):
                deps[name].add(needed)
    return deps


def find_cycle(deps: Mapping[str, set[str]]) -> list[str] | None:
    """A cycle as names (``[a, b, a]``), or None. Self-dependencies are cycles of one (``[a, a]``)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(deps):
        if state.get(start):
            continue
        path: list[str] = [start]
        iterators = [iter(sorted(deps.get(start, ())))]
        state[start] = 1
        while iterators:
            child = next(iterators[-1], None)
            if child is None:
                state[path.pop()] = 2
                iterators.pop()
                continue
            if state.get(child) == 1:
                return [*path[path.index(child) :], child]
            if child in deps and not state.get(child):
                state[child] = 1
                path.append(child)
                iterators.append(iter(sorted(deps.get(child, ()))))
    return None


def waves(deps: Mapping[str, set[str]]) -> list[list[str]]:
    """Bindings grouped in levels: each level needs only earlier levels, so a level may run concurrently.
    Raises CycleError."""
    cycle = find_cycle(deps)
    if cycle is not None:
        raise CycleError(cycle)
    remaining = {name: {dep for dep in found if dep in deps} for name, found in deps.items()}
    levels: list[list[str]] = []
    while remaining:
        ready = sorted(name for name, found in remaining.items() if not found)
        levels.append(ready)
        for name in ready:
            del remaining[name]
        for found in remaining.values():
            found.difference_update(ready)
    return levels


def topological_order(deps: Mapping[str, set[str]]) -> list[str]:
    return [name for level in waves(deps) for name in level]


def unchanged(before: DataPlan, after: DataPlan) -> set[str]:
    """The bindings of ``after`` that produce what they produced in ``before``: the same definition (its
    description aside), the same default headers sent with its call, the same seed when it is generated,
    and only unchanged bindings to depend on. A run going on with ``after`` (a repaired plan) keeps only
    their values; every other binding runs again. Nothing is unchanged in a plan that cannot be ordered."""
    try:
        old = _signatures(before)
        new = _signatures(after)
        order = topological_order(dependencies(after))
    except (TemplateSyntax, CycleError):
        return set()
    kept: set[str] = set()
    for name in order:
        signature = new[name]
        if old.get(name) == signature and signature[-1] <= kept:
            kept.add(name)
    return kept


def _signatures(plan: DataPlan) -> dict[str, tuple[Any, ...]]:
    """What decides each binding's value: its definition, the default headers its request is sent with,
    the seed of a generated value, and its dependencies (last)."""
    deps = dependencies(plan)
    header_refs = default_header_references(plan)
    signatures: dict[str, tuple[Any, ...]] = {}
    for name, binding in plan.bindings.items():
        sent: dict[str, str] = {}
        if binding.call is not None or binding.lookup is not None:
            needed = ancestors(deps, name)
            sent = {key: value for key, value in plan.defaults.headers.items() if header_refs[key] <= needed}
        seed = plan.seed if binding.generate is not None else None
        definition = binding.model_dump(mode="json", by_alias=True, exclude={"description"})
        signatures[name] = (definition, sent, seed, frozenset(deps[name]))
    return signatures
