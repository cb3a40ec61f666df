"""Counting what a request generator achieved per operation, and the table that shows it side by side."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


def operation_key(method: str, path: str) -> str:
    """How both sides name an operation: the same key whatever operationId each one sees."""
    return f"{method.upper()} {path}"


def operation_keys(document: Mapping[str, Any], skipped: Iterable[str] = ()) -> list[str]:
    """Every operation of an OpenAPI document, in document order, except the ``skipped`` ones."""
    methods = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
    keys = [
        operation_key(method, path)
        for path, item in (document.get("paths") or {}).items()
        for method in methods
        if method in item
    ]
    excluded = set(skipped)
    return [key for key in keys if key not in excluded]


@dataclass
class Tally:
    """Requests sent while exercising one operation: all of them (prerequisites included) and those that
    called the operation itself. "ok" means the SUT answered 2xx."""

    attempts: int = 0  # plans executed (planner) or cases drawn (Schemathesis)
    sent: int = 0
    ok: int = 0
    target_sent: int = 0
    target_ok: int = 0
    failures: list[str] = field(default_factory=list)  # a few samples of what went wrong, for the reader
    cleanups: Counter[str] = field(default_factory=Counter)  # undo outcomes: done | gone | failed
    refused: int = 0  # plans the planner refused (it could not determine an input, or undo what it does)
    leaked: int = 0  # items the SUT's listings showed new, changed or gone after a plan's clean-up
    leaky_plans: int = 0  # plans that left something: none of their requests counts as valid
    cleanup_failures: list[str] = field(default_factory=list)  # a few undo calls that failed, and why

    def count(self, status: int | None, *, target: bool, why: str = "") -> None:
        success = status is not None and 200 <= status < 300
        self.sent += 1
        self.ok += success
        if target:
            self.target_sent += 1
            self.target_ok += success
        if not success and len(self.failures) < 3 and why:
            self.failures.append(why[:160])

    def add_plan(self, plan: Tally, leaked: int) -> None:
        """One executed plan's requests (``plan``); a plan that left ``leaked`` items counts as sent, never
        as valid."""
        self.sent += plan.sent
        self.target_sent += plan.target_sent
        self.cleanups.update(plan.cleanups)
        if leaked:
            self.leaked += leaked
            self.leaky_plans += 1
            if len(self.failures) < 3:
                self.failures.append(f"left {leaked} item(s) in the SUT after its clean-up")
        else:
            self.ok += plan.ok
            self.target_ok += plan.target_ok
        self.failures += plan.failures[: max(0, 3 - len(self.failures))]
        self.cleanup_failures += plan.cleanup_failures[: max(0, 3 - len(self.cleanup_failures))]


@dataclass(frozen=True)
class Figures:
    valid_rate: float  # 2xx / every request sent
    coverage: float  # operations with at least one 2xx of their own / all operations
    sent: int


def figures(tallies: Mapping[str, Tally], keys: list[str]) -> Figures:
    sent = sum(tallies[key].sent for key in keys)
    ok = sum(tallies[key].ok for key in keys)
    covered = sum(1 for key in keys if tallies[key].target_ok > 0)
    return Figures(ok / sent if sent else 0.0, covered / len(keys) if keys else 0.0, sent)


def table(
    title: str, keys: list[str], planner: Mapping[str, Tally], schemathesis: Mapping[str, Tally]
) -> str:
    width = max([len(key) for key in keys] + [len("operation")])
    lines = [
        title,
        f"  {'operation':<{width}}  {'planner 2xx/sent':>17}  {'own 2xx/plans':>13}"
        f"  {'schemathesis 2xx/sent':>21}",
    ]
    for key in keys:
        p, s = planner[key], schemathesis[key]
        lines.append(
            f"  {key:<{width}}  {f'{p.ok}/{p.sent}':>17}  {f'{p.target_ok}/{p.attempts}':>13}"
            f"  {f'{s.ok}/{s.sent}':>21}"
        )
    return "\n".join(lines)


def cleanup_summary(keys: list[str], tallies: Mapping[str, Tally]) -> str:
    total: Counter[str] = Counter()
    for key in keys:
        total.update(tallies[key].cleanups)
    return ", ".join(f"{total[status]} {status}" for status in ("done", "gone", "failed"))


def leak_summary(keys: list[str], tallies: Mapping[str, Tally]) -> tuple[int, int, int]:
    """(items left, plans that left some, plans refused) over all operations."""
    chosen = [tallies[key] for key in keys]
    return sum(t.leaked for t in chosen), sum(t.leaky_plans for t in chosen), sum(t.refused for t in chosen)


def failure_samples(label: str, keys: list[str], tallies: Mapping[str, Tally]) -> str:
    lines = [f"  {label} {key}: {why}" for key in keys for why in tallies[key].failures[:1]]
    return "\n".join(lines)
