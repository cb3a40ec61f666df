"""Flakiness scoring on crafted histories: flips within a series; both ways: flaky; failing latest: broken."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from orchestra.insights.flakiness import RunObservation, StepObservation, score_case, score_cases

CASE = uuid.uuid4()
ENV = uuid.uuid4()
V1, V2 = uuid.uuid4(), uuid.uuid4()
START = datetime(2026, 1, 1, tzinfo=UTC)


def history(
    statuses: str, version: uuid.UUID = V1, environment: uuid.UUID = ENV, offset: int = 0
) -> list[RunObservation]:
    """``statuses``: P passed, F failed, E error, T timed out, C cancelled, one run each, in order."""
    names = {"P": "PASSED", "F": "FAILED", "E": "ERROR", "T": "TIMED_OUT", "C": "CANCELLED"}
    return [
        RunObservation(
            uuid.uuid4(),
            CASE,
            environment,
            version,
            names[letter],
            START + timedelta(minutes=offset + at),
            (
                StepObservation("main", "login", "passed", 1),
                StepObservation("main", "pay", "passed" if letter == "P" else "failed", 1),
            ),
        )
        for at, letter in enumerate(statuses)
    ]


def test_a_test_that_always_passes_is_healthy_with_score_zero() -> None:
    score = score_case(history("PPPPP"))
    assert score is not None
    assert (score.classification, score.score, score.flips, score.transitions) == ("healthy", 0.0, 0, 4)


def test_a_test_that_fails_on_every_run_is_broken_not_flaky() -> None:
    score = score_case(history("FEFTF"))
    assert score is not None
    assert (score.classification, score.score, score.failures) == ("broken", 0.0, 5)


def test_verdict_flips_on_the_same_version_make_a_test_flaky_with_the_runs_as_evidence() -> None:
    runs = history("PFPPFP")
    score = score_case(runs)
    assert score is not None
    assert score.classification == "flaky"
    assert (score.flips, score.transitions, score.recoveries, score.score) == (4, 5, 2, 0.8)
    assert [(flip.from_run, flip.to_run) for flip in score.flip_evidence] == [
        (runs[0].id, runs[1].id),
        (runs[1].id, runs[2].id),
        (runs[3].id, runs[4].id),
        (runs[4].id, runs[5].id),
    ]


def test_a_failure_fixed_by_a_new_version_is_not_flaky() -> None:
    score = score_case(history("FFF") + history("PPP", version=V2, offset=10))
    assert score is not None
    assert (score.classification, score.flips, score.score) == ("healthy", 0, 0.0)


def test_a_regression_that_keeps_failing_is_broken() -> None:
    score = score_case(history("PPPFFF"))
    assert score is not None
    assert (score.classification, score.flips, score.recoveries) == ("broken", 1, 0)


def test_runs_on_different_environments_are_separate_series() -> None:
    # pass on one SUT, fail on another, interleaved in time: no flip within either series
    other = uuid.uuid4()
    runs = [
        run for pair in zip(history("PPP"), history("FFF", environment=other), strict=True) for run in pair
    ]
    score = score_case(runs)
    assert score is not None
    assert (score.flips, score.transitions) == (0, 4)


def test_cancelled_runs_are_no_verdict() -> None:
    score = score_case(history("PCPCP"))
    assert score is not None
    assert (score.runs, score.flips, score.classification) == (3, 0, "healthy")
    assert score_case(history("CC")) is None


def test_the_failing_step_carries_the_step_score_and_the_failed_runs() -> None:
    runs = history("PFPF")
    score = score_case(runs)
    assert score is not None
    by_name = {step.name: step for step in score.steps}
    assert (by_name["pay"].flips, by_name["pay"].transitions, by_name["pay"].score) == (3, 3, 1.0)
    assert by_name["pay"].failed_runs == [runs[1].id, runs[3].id]
    assert (by_name["login"].flips, by_name["login"].score) == (0, 0.0)
    assert score.steps[0].name == "pay"


def test_a_step_that_passed_only_on_a_later_attempt_is_counted_with_its_run() -> None:
    run = RunObservation(
        uuid.uuid4(), CASE, ENV, V1, "PASSED", START, (StepObservation("main", "poll", "passed", 3),)
    )
    score = score_case([run])
    assert score is not None
    assert score.retried_passes == 1
    assert score.steps[0].retried_runs == [run.id]


def test_cases_are_listed_flaky_first_then_broken_then_healthy() -> None:
    def of(case: uuid.UUID, statuses: str) -> list[RunObservation]:
        return [
            RunObservation(run.id, case, run.environment_id, run.version_id, run.status, run.created_at)
            for run in history(statuses)
        ]

    healthy, broken, flaky = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    scores = score_cases(of(healthy, "PPP") + of(broken, "FFF") + of(flaky, "PFP"))
    assert [(s.test_case_id, s.classification) for s in scores] == [
        (flaky, "flaky"),
        (broken, "broken"),
        (healthy, "healthy"),
    ]


def test_a_failure_that_passed_on_its_retry_makes_a_test_flaky_with_the_pair_as_evidence() -> None:
    runs = history("PPF")
    retry = RunObservation(
        uuid.uuid4(), CASE, ENV, V1, "PASSED", START + timedelta(minutes=3), (), retry_of=runs[-1].id
    )
    score = score_case([*runs, retry])
    assert score is not None
    assert (score.classification, score.passed_on_retry) == ("flaky", 1)
    assert [(flip.from_run, flip.to_run) for flip in score.retry_evidence] == [(runs[-1].id, retry.id)]
    # The retry is the next run of the series: a flip and a recovery as well.
    assert (score.flips, score.recoveries, score.transitions) == (2, 1, 3)


def test_a_retry_that_failed_again_is_no_pass_on_retry() -> None:
    runs = history("FF")
    retry = RunObservation(
        uuid.uuid4(), CASE, ENV, V1, "FAILED", START + timedelta(minutes=3), (), retry_of=runs[-1].id
    )
    score = score_case([*runs, retry])
    assert score is not None
    assert (score.classification, score.passed_on_retry, score.retry_evidence) == ("broken", 0, [])


def test_a_first_run_that_passed_on_retry_is_flaky_although_the_verdict_went_one_way_only() -> None:
    first = history("F")[0]
    retry = RunObservation(
        uuid.uuid4(), CASE, ENV, V1, "PASSED", START + timedelta(minutes=1), retry_of=first.id
    )
    score = score_case([first, retry])
    assert score is not None
    assert (score.classification, score.passed_on_retry) == ("flaky", 1)
    plain = score_case(
        [first, RunObservation(uuid.uuid4(), CASE, ENV, V1, "PASSED", START + timedelta(minutes=1))]
    )
    assert plain is not None
    assert plain.classification == "healthy"  # the same verdicts without the link: a recovery only
