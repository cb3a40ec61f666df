"""Benchmark: the flakiness classification on generated histories whose truth is known.

Healthy tests pass (some after a failing version that a new version fixed), broken ones fail on every run
or since a regression, flaky ones pass with a probability between 0.5 and 0.95 on one version. Prints the
precision and recall of each class and ends with one line of key=value figures.

    python bench/flakiness.py [--tests 3000] [--runs 20] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import uuid
from datetime import UTC, datetime, timedelta

from orchestra.insights.flakiness import RunObservation, score_cases

START = datetime(2026, 1, 1, tzinfo=UTC)


def history(rng: random.Random, truth: str, runs: int) -> list[RunObservation]:
    case, environment, v1, v2 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    regression = rng.randrange(1, runs)
    changed = rng.random() < 0.3  # broken: since a regression; healthy: fixed by a new version
    p = rng.uniform(0.5, 0.95)
    out = []
    for at in range(runs):
        version = v1
        if truth == "flaky":
            passed = rng.random() < p
        elif truth == "broken":
            passed = changed and at < regression
        else:
            passed = not changed or at >= regression
            version = v2 if changed and at >= regression else v1
        status = "PASSED" if passed else rng.choice(["FAILED", "ERROR", "TIMED_OUT"])
        out.append(
            RunObservation(uuid.uuid4(), case, environment, version, status, START + timedelta(hours=at))
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tests", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    truth: dict[uuid.UUID, str] = {}
    observed: list[RunObservation] = []
    for index in range(args.tests):
        label = ("healthy", "flaky", "broken")[index % 3]
        runs = history(rng, label, args.runs)
        truth[runs[0].test_case_id] = label
        observed += runs
    found = {score.test_case_id: score.classification for score in score_cases(observed)}
    figures: dict[str, float] = {}
    for label in ("flaky", "broken", "healthy"):
        predicted = {case for case, value in found.items() if value == label}
        actual = {case for case, value in truth.items() if value == label}
        hits = len(predicted & actual)
        figures[f"{label}_precision"] = round(hits / len(predicted), 4) if predicted else 0.0
        figures[f"{label}_recall"] = round(hits / len(actual), 4) if actual else 0.0
        print(
            f"{label:8} precision {figures[label + '_precision']:.4f}"
            f"  recall {figures[label + '_recall']:.4f}"
        )
    print(" ".join(f"{key}={value}" for key, value in figures.items()))


if __name__ == "__main__":
    main()
