"""The rules that keep metric labels bounded, and who may scrape."""

from __future__ import annotations

import uuid

import pytest

from orchestra.kit import metrics


@pytest.fixture
def fresh_environments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "_seen_environments", set())
    monkeypatch.setattr(metrics, "_sut_request_children", {})


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


def _sut_requests(environment: str, status_class: str) -> float:
    count = metrics.REGISTRY.get_sample_value(
        "orchestra_sut_request_duration_seconds_count",
        {"environment": environment, "status_class": status_class},
    )
    return count or 0.0


@pytest.mark.usefixtures("fresh_environments")
def test_sut_requests_are_counted_under_their_environments_label_and_the_kept_labels_stay_bounded() -> None:
    before = _sut_requests("staging-eu-blue", "2xx")
    for _ in range(3):
        metrics.observe_sut_request("Staging EU / Blue", 204, 0.01)
    metrics.observe_sut_request("Staging EU / Blue", None, 0.01)
    assert _sut_requests("staging-eu-blue", "2xx") == before + 3
    other = _sut_requests(metrics.OTHER, "5xx")
    metrics.observe_sut_request("", 503, 0.01)  # a request of no environment
    assert _sut_requests(metrics.OTHER, "5xx") == other + 1
    for _ in range(metrics.MAX_ENVIRONMENT_LABELS * 10):
        metrics.observe_sut_request(f"env {uuid.uuid4()}", 200, 0.01)
    assert len(metrics._sut_request_children) <= 8 * metrics.MAX_ENVIRONMENT_LABELS
    other = _sut_requests(metrics.OTHER, "2xx")
    metrics.observe_sut_request(f"env {uuid.uuid4()}", 200, 0.01)  # a name beyond the cap: still counted
    assert _sut_requests(metrics.OTHER, "2xx") == other + 1


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
