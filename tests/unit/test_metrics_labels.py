"""The rules that keep metric labels bounded, and who may scrape."""

from __future__ import annotations

import uuid

import pytest

from orchestra.kit import metrics


@pytest.fixture
def fresh_environments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "_seen_environments", set())


@pytest.mark.usefixtures("fresh_environments")
def test_environment_labels_are_slugs_and_at_most_a_fixed_number() -> None:
    assert metrics.environment_label("Staging EU / Blue") == "staging-eu-blue"
    assert metrics.environment_label("  ") == metrics.OTHER
    assert len(metrics.environment_label("x" * 500)) == 40
    labels = {
        metrics.environment_label(f"env {uuid.uuid4()}") for _ in range(metrics.MAX_ENVIRONMENT_LABELS * 3)
    }
    assert len(labels - {metrics.OTHER}) == metrics.MAX_ENVIRONMENT_LABELS - 3  # three seen above
    assert metrics.OTHER in labels
    assert metrics.environment_label("staging eu blue") == "staging-eu-blue"  # a known one keeps its series


@pytest.mark.parametrize(
    ("code", "label"),
    [(100, "1xx"), (204, "2xx"), (302, "3xx"), (404, "4xx"), (599, "5xx"), (None, "error"), (700, "error")],
)
def test_status_classes(code: int | None, label: str) -> None:
    assert metrics.status_class(code) == label
    assert label in metrics.STATUS_CLASSES


def test_outcome_label_keeps_only_run_outcomes() -> None:
    assert metrics.outcome_label("PASSED") == "PASSED"
    assert metrics.outcome_label("something else") == metrics.OTHER


@pytest.mark.parametrize(
    ("authorization", "token", "open_without_token", "status"),
    [
        (None, None, False, 404),
        (None, None, True, 200),
        ("Bearer whatever", None, True, 200),
        (None, "s3cret-token-long-enough", True, 401),
        ("Bearer wrong", "s3cret-token-long-enough", False, 401),
        ("Basic s3cret-token-long-enough", "s3cret-token-long-enough", False, 401),
        ("Bearer s3cret-token-long-enough", "s3cret-token-long-enough", False, 200),
        ("bearer  s3cret-token-long-enough ", "s3cret-token-long-enough", True, 200),
    ],
)
def test_scrape_status(
    authorization: str | None, token: str | None, open_without_token: bool, status: int
) -> None:
    assert metrics.scrape_status(authorization, token, open_without_token=open_without_token) == status
