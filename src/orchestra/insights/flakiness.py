"""Flakiness scoring over a window of history: pure functions of the observed runs (docs/insights.md).

A *series* is the runs of one test-case version on one environment, in creation order: the definition and
the SUT are the same, so a change of verdict between two consecutive runs of a series (a *flip*) is not
explained by an edit. The score of a test case is its flips over the consecutive pairs it has; a test that
went both ways within one series, or whose failure passed on its automatic retry, is *flaky*, one whose latest
run failed without that is *broken*, the rest is *healthy*.
"""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Classification = Literal["healthy", "flaky", "broken"]
PASS = "PASSED"
FAILING = frozenset({"FAILED", "ERROR", "TIMED_OUT"})  # CANCELLED and unfinished runs are no verdict
MAX_EVIDENCE = 20


@dataclass(frozen=True, slots=True)
class StepObservation:
    phase: str
    name: str
    status: str  # passed | failed | error | skipped
    attempts: int


@dataclass(frozen=True, slots=True)
class RunObservation:
    id: uuid.UUID
    test_case_id: uuid.UUID
    environment_id: uuid.UUID
    version_id: uuid.UUID
    status: str
    created_at: datetime
    steps: tuple[StepObservation, ...] = ()
    retry_of: uuid.UUID | None = None  # the FAILED run this one retries (an automatic retry)

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def passed_on_retry(self) -> bool:
        """A pass of an automatic retry: the same version on the same environment failed just before."""
        return self.passed and self.retry_of is not None


@dataclass(frozen=True, slots=True)
class Flip:
    from_run: uuid.UUID
    to_run: uuid.UUID
    from_status: str
    to_status: str


@dataclass(slots=True)
class StepScore:
    phase: str
    name: str
    runs: int = 0
    failures: int = 0
    flips: int = 0
    transitions: int = 0
    retried_passes: int = 0
    failed_runs: list[uuid.UUID] = field(default_factory=list)
    retried_runs: list[uuid.UUID] = field(default_factory=list)

    @property
    def score(self) -> float:
        return round(self.flips / self.transitions, 4) if self.transitions else 0.0


@dataclass(slots=True)
class CaseScore:
    test_case_id: uuid.UUID
    classification: Classification
    runs: int
    passes: int
    failures: int
    flips: int
    transitions: int
    recoveries: int  # fail → pass within a series: a failure that went away without a definition change
    retried_passes: int  # steps that passed only on a later attempt
    score: float
    latest_run: uuid.UUID
    flip_evidence: list[Flip]
    steps: list[StepScore]
    passed_on_retry: int = 0  # failed runs whose automatic retry passed: flaky by themselves
    retry_evidence: list[Flip] = field(default_factory=list)  # the failed run → its passing retry


def verdicts(runs: Iterable[RunObservation]) -> list[RunObservation]:
    """The runs that ended with a verdict: PASSED, or a failure (FAILED, ERROR, TIMED_OUT)."""
    return [run for run in runs if run.status == PASS or run.status in FAILING]


def series_of(runs: Iterable[RunObservation]) -> list[list[RunObservation]]:
    """The runs by (environment, version), each series in creation order."""
    grouped: dict[tuple[uuid.UUID, uuid.UUID], list[RunObservation]] = defaultdict(list)
    for run in runs:
        grouped[(run.environment_id, run.version_id)].append(run)
    return [sorted(group, key=lambda run: (run.created_at, run.id)) for group in grouped.values()]


def _score_steps(series: Sequence[Sequence[RunObservation]]) -> list[StepScore]:
    scores: dict[tuple[str, str], StepScore] = {}
    for runs in series:
        previous: dict[tuple[str, str], bool] = {}
        for run in runs:
            seen: dict[tuple[str, str], bool] = {}
            for step in run.steps:
                if step.status == "skipped":
                    continue
                key = (step.phase, step.name)
                score = scores.setdefault(key, StepScore(step.phase, step.name))
                passed = step.status == "passed"
                score.runs += 1
                if not passed:
                    score.failures += 1
                    if len(score.failed_runs) < MAX_EVIDENCE:
                        score.failed_runs.append(run.id)
                elif step.attempts > 1:
                    score.retried_passes += 1
                    if len(score.retried_runs) < MAX_EVIDENCE:
                        score.retried_runs.append(run.id)
                if key in previous:
                    score.transitions += 1
                    score.flips += previous[key] != passed
                seen[key] = passed
            previous = seen
    return sorted(scores.values(), key=lambda step: (-step.score, -step.failures, step.phase, step.name))


def score_case(runs: Sequence[RunObservation]) -> CaseScore | None:
    """The flakiness of one test case over these runs (None when none of them ended with a verdict)."""
    observed = verdicts(runs)
    if not observed:
        return None
    series = series_of(observed)
    flips = transitions = recoveries = 0
    both_ways = False
    evidence: list[Flip] = []
    for group in series:
        breaks = 0
        recovered = 0
        for before, after in itertools.pairwise(group):
            transitions += 1
            if before.passed == after.passed:
                continue
            flips += 1
            recovered += after.passed
            breaks += before.passed
            if len(evidence) < MAX_EVIDENCE:
                evidence.append(Flip(before.id, after.id, before.status, after.status))
        recoveries += recovered
        both_ways = both_ways or (breaks > 0 and recovered > 0)
    latest = max(observed, key=lambda run: (run.created_at, run.id))
    # A pass on retry is a fail → pass within a series minutes apart: flaky on its own (counted as a flip
    # and a recovery too, the retry being the next run of the series).
    on_retry = [run for run in observed if run.passed_on_retry]
    retry_evidence = [Flip(run.retry_of, run.id, "FAILED", PASS) for run in on_retry if run.retry_of]
    flaky = both_ways or bool(on_retry)
    classification: Classification = "flaky" if flaky else "healthy" if latest.passed else "broken"
    steps = _score_steps(series)
    passes = sum(run.passed for run in observed)
    return CaseScore(
        test_case_id=latest.test_case_id,
        classification=classification,
        runs=len(observed),
        passes=passes,
        failures=len(observed) - passes,
        flips=flips,
        transitions=transitions,
        recoveries=recoveries,
        retried_passes=sum(step.retried_passes for step in steps),
        score=round(flips / transitions, 4) if transitions else 0.0,
        latest_run=latest.id,
        flip_evidence=evidence,
        steps=steps,
        passed_on_retry=len(on_retry),
        retry_evidence=retry_evidence[:MAX_EVIDENCE],
    )


def score_cases(runs: Iterable[RunObservation]) -> list[CaseScore]:
    """Every test case among ``runs``, the flakiest first."""
    by_case: dict[uuid.UUID, list[RunObservation]] = defaultdict(list)
    for run in runs:
        by_case[run.test_case_id].append(run)
    scores = [score for case_runs in by_case.values() if (score := score_case(case_runs)) is not None]
    order = {"flaky": 0, "broken": 1, "healthy": 2}
    return sorted(scores, key=lambda s: (order[s.classification], -s.score, str(s.test_case_id)))
