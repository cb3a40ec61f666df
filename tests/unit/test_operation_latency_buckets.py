"""The latency buckets of the operations rollup (insights/operation_rollups.py): a percentile read from
them is within RELATIVE_ERROR of the continuous percentile of the values themselves."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from orchestra.insights.operation_rollups import GROWTH, RELATIVE_ERROR, ZERO_BUCKET, Histogram, middle


def bucket(value: float) -> int:
    """As the database buckets a duration (migration 0028)."""
    return ZERO_BUCKET if value <= 0 else math.floor(math.log(value) / math.log(GROWTH))


def percentile_cont(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def histogram(values: list[float]) -> Histogram:
    counts = Counter(bucket(value) for value in values)
    ordered = sorted(counts)
    return Histogram(ordered, [counts[b] for b in ordered])


@pytest.mark.parametrize("seed", range(20))
def test_percentiles_from_buckets_are_within_the_bound(seed: int) -> None:
    rng = random.Random(seed)
    values = [
        rng.choice([0.0, rng.uniform(0.01, 1), rng.lognormvariate(3, 2), rng.uniform(1_000, 600_000)])
        for _ in range(rng.randrange(1, 400))
    ]
    found = histogram(values)
    for fraction in (0.0, 0.5, 0.95, 1.0):
        exact = percentile_cont(values, fraction)
        estimate = found.percentile(fraction)
        assert estimate is not None
        assert abs(estimate - exact) <= RELATIVE_ERROR * exact + 1e-9, (fraction, exact, estimate)


def test_a_bucket_stands_for_its_middle_and_zero_for_zero() -> None:
    assert middle(ZERO_BUCKET) == 0.0
    assert histogram([0.0, 0.0]).percentile(0.5) == 0.0
    assert middle(0) == pytest.approx((1 + GROWTH) / 2)
    assert histogram([20.0]).percentile(0.95) == pytest.approx(20.0, rel=RELATIVE_ERROR)


def test_no_calls_have_no_percentile() -> None:
    assert Histogram([], []).percentile(0.5) is None
