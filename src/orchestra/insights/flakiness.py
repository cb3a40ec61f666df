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
from typing import Literal, Protocol, TypeVar

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


@dataclass(frozen=True, slots=True)
class CaseCounts:
    """The figures of one test case that decide its classification and its place in the list (the API
    computes them in SQL, insights/flakiness_queries.py; ``score_case`` from the observed runs)."""

    test_case_id: uuid.UUID
    runs: int
    passes: int
    flips: int
    transitions: int
    recoveries: int  # fail → pass within a series: a failure that went away without a definition change
    both_ways: bool  # within one series, a pass followed by a failure and a failure followed by a pass
    passed_on_retry: int  # failed runs whose automatic retry passed: flaky by themselves
    latest_run: uuid.UUID
    latest_passed: bool

    @property
    def classification(self) -> Classification:
        flaky = self.both_ways or self.passed_on_retry > 0
        return "flaky" if flaky else "healthy" if self.latest_passed else "broken"

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

    @classmethod
    def of(
        cls, counts: CaseCounts, flip_evidence: list[Flip], retry_evidence: list[Flip], steps: list[StepScore]
    ) -> CaseScore:
        """The score of a test case: its counts, the earliest flips and passes on retry (at most
        ``MAX_EVIDENCE`` each) and its steps."""
        return cls(
            test_case_id=counts.test_case_id,
            classification=counts.classification,
            runs=counts.runs,
            passes=counts.passes,
            failures=counts.runs - counts.passes,
            flips=counts.flips,
            transitions=counts.transitions,
            recoveries=counts.recoveries,
            retried_passes=sum(step.retried_passes for step in steps),
            score=counts.score,
            latest_run=counts.latest_run,
            flip_evidence=flip_evidence,
            steps=ordered_steps(steps),
            passed_on_retry=counts.passed_on_retry,
            retry_evidence=retry_evidence,
        )


class Ranked(Protocol):
    @property
    def test_case_id(self) -> uuid.UUID: ...
    @property
    def classification(self) -> Classification: ...
    @property
    def score(self) -> float: ...


R = TypeVar("R", bound=Ranked)


def flakiest_first(cases: Iterable[R]) -> list[R]:
    """Flaky, then broken, then healthy; by score within each; then by test-case id."""
    order = {"flaky": 0, "broken": 1, "healthy": 2}
    return sorted(cases, key=lambda case: (order[case.classification], -case.score, str(case.test_case_id)))


def ordered_steps(steps: Iterable[StepScore]) -> list[StepScore]:
    """The flakiest steps first, then those that failed most, then by phase and name."""
    return sorted(steps, key=lambda step: (-step.score, -step.failures, step.phase, step.name))


def verdicts(runs: Iterable[RunObservation]) -> list[RunObservation]:
    """The runs that ended with a verdict: PASSED, or a failure (FAILED, ERROR, TIMED_OUT)."""
    return [run for run in runs if run.status == PASS or run.status in FAILING]


def series_of(runs: Iterable[RunObservation]) -> list[list[RunObservation]]:
    """The runs by (environment, version), each series in creation order."""
    grouped: dict[tuple[uuid.UUID, uuid.UUID], list[RunObservation]] = defaultdict(list)
    for run in runs:
        grouped[(run.environment_id, run.version_id)].append(run)
    return [sorted(group, key=_creation) for group in grouped.values()]


def _creation(run: RunObservation) -> tuple[datetime, uuid.UUID]:
    return run.created_at, run.id


def _earliest(found: list[tuple[tuple[datetime, uuid.UUID, int], uuid.UUID]]) -> list[uuid.UUID]:
    return [run_id for _, run_id in sorted(found)[:MAX_EVIDENCE]]


def _score_steps(series: Sequence[Sequence[RunObservation]]) -> list[StepScore]:
    scores: dict[tuple[str, str], StepScore] = {}
    failed: dict[tuple[str, str], list[tuple[tuple[datetime, uuid.UUID, int], uuid.UUID]]] = defaultdict(list)
    retried: dict[tuple[str, str], list[tuple[tuple[datetime, uuid.UUID, int], uuid.UUID]]] = defaultdict(
        list
    )
    for runs in series:
        previous: dict[tuple[str, str], bool] = {}
        for run in runs:
            seen: dict[tuple[str, str], bool] = {}
            for position, step in enumerate(run.steps):
                if step.status == "skipped":
                    continue
                key = (step.phase, step.name)
                score = scores.setdefault(key, StepScore(step.phase, step.name))
                passed = step.status == "passed"
                score.runs += 1
                if not passed:
                    score.failures += 1
                    failed[key].append(((run.created_at, run.id, position), run.id))
                elif step.attempts > 1:
                    score.retried_passes += 1
                    retried[key].append(((run.created_at, run.id, position), run.id))
                if key in previous:
                    score.transitions += 1
                    score.flips += previous[key] != passed
                seen[key] = passed
            previous = seen
    for key, score in scores.items():
        score.failed_runs = _earliest(failed[key])
        score.retried_runs = _earliest(retried[key])
    return list(scores.values())


def score_case(runs: Sequence[RunObservation]) -> CaseScore | None:
    """The flakiness of one test case over these runs (None when none of them ended with a verdict): the
    definition that the API's SQL (insights/flakiness_queries.py) computes the same as."""
    observed = verdicts(runs)
    if not observed:
        return None
    series = series_of(observed)
    flips = transitions = recoveries = 0
    both_ways = False
    evidence: list[tuple[tuple[datetime, uuid.UUID], Flip]] = []
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
            evidence.append((_creation(after), Flip(before.id, after.id, before.status, after.status)))
        recoveries += recovered
        both_ways = both_ways or (breaks > 0 and recovered > 0)
    latest = max(observed, key=_creation)
    # A pass on retry is a fail → pass within a series minutes apart: flaky on its own (counted as a flip
    # and a recovery too, the retry being the next run of the series).
    on_retry = sorted((run for run in observed if run.passed_on_retry), key=_creation)
    retry_evidence = [Flip(run.retry_of, run.id, "FAILED", PASS) for run in on_retry if run.retry_of]
    counts = CaseCounts(
        test_case_id=latest.test_case_id,
        runs=len(observed),
        passes=sum(run.passed for run in observed),
        flips=flips,
        transitions=transitions,
        recoveries=recoveries,
        both_ways=both_ways,
        passed_on_retry=len(on_retry),
        latest_run=latest.id,
        latest_passed=latest.passed,
    )
    flip_evidence = [flip for _, flip in sorted(evidence, key=lambda found: found[0])[:MAX_EVIDENCE]]
    return CaseScore.of(counts, flip_evidence, retry_evidence[:MAX_EVIDENCE], _score_steps(series))


def score_cases(runs: Iterable[RunObservation]) -> list[CaseScore]:
    """Every test case among ``runs``, the flakiest first."""
    by_case: dict[uuid.UUID, list[RunObservation]] = defaultdict(list)
    for run in runs:
        by_case[run.test_case_id].append(run)
    return flakiest_first(
        score for case_runs in by_case.values() if (score := score_case(case_runs)) is not None
    )
