"""Prometheus metrics of every Orchestra process, and the rules that keep their labels bounded.

One registry per process (the client's default one): the API exposes it at ``/metrics``, an executor on its
health port, the ai-service on its own port (docs/operations.md). A label never carries an id, a URL or other
free text: outcomes and status classes come from fixed sets, and an environment is named by its name, folded
to a short slug, and only the first ``MAX_ENVIRONMENT_LABELS`` names a process sees get a series of their own
(later ones share ``other``), so whatever users create, the number of series stays bounded.
"""

from __future__ import annotations

import hmac
import re
import threading
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

MAX_ENVIRONMENT_LABELS = 50
OTHER = "other"

RUN_OUTCOMES = ("PASSED", "FAILED", "ERROR", "CANCELLED", "TIMED_OUT")
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx", "error")
RECLAIM_REASONS = ("expired", "handed_back")
PLANNERS = ("builtin", "ollama")
FALLBACK_REASONS = ("timeout", "unavailable", "invalid")

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_LONG_SECONDS = (0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)

RUNS_FINISHED = Counter("orchestra_runs_finished", "Runs an executor ended, by outcome.", ["outcome"])
RUN_DURATION = Histogram(
    "orchestra_run_duration_seconds",
    "From a run's first lease to its end, by outcome.",
    ["outcome"],
    buckets=_LONG_SECONDS,
)
RUN_QUEUE_WAIT = Histogram(
    "orchestra_run_queue_wait_seconds",
    "From a run's creation (PENDING) to its first lease (IN_PROGRESS).",
    buckets=_LONG_SECONDS,
)
RUNS_WAITING = Gauge(
    "orchestra_runs_waiting",
    "Runs PENDING or QUEUED, by environment (read from PostgreSQL at scrape time).",
    ["environment"],
)
RUNS_IN_PROGRESS = Gauge(
    "orchestra_runs_in_progress",
    "Runs IN_PROGRESS, by environment (read from PostgreSQL at scrape time).",
    ["environment"],
)
EXECUTOR_SLOTS_FREE = Gauge("orchestra_executor_slots_free", "Runs this executor could still take now.")
LEASES_RECLAIMED = Counter(
    "orchestra_leases_reclaimed",
    "Runs taken back from an executor: expired/orphaned leases the scheduler reaped, or runs handed back "
    "at shutdown.",
    ["reason"],
)
STEP_RETRIES = Counter("orchestra_step_retries", "Extra attempts of HTTP steps (retry and poll-until).")
RATE_LIMITED_WAITS = Counter(
    "orchestra_rate_limited_waits", "SUT requests that waited for their environment's rate limit."
)
RATE_LIMITED_WAIT_SECONDS = Counter(
    "orchestra_rate_limited_wait_seconds", "Seconds SUT requests waited for their environment's rate limit."
)
SCHEDULE_LATENESS = Histogram(
    "orchestra_schedule_lateness_seconds",
    "How long after its fire time a schedule created its run.",
    buckets=(*_SECONDS, 120.0, 300.0, 900.0, 3600.0),
)
SUT_REQUEST_DURATION = Histogram(
    "orchestra_sut_request_duration_seconds",
    "Requests to the SUT, by environment and status class (error: no response).",
    ["environment", "status_class"],
    buckets=_SECONDS,
)
SCHEDULER_PASS_DURATION = Histogram(
    "orchestra_scheduler_pass_duration_seconds",
    "One scheduling pass (fire schedules, reap, re-publish, admit, publish).",
    buckets=_SECONDS,
)
AI_PLAN_DURATION = Histogram(
    "orchestra_ai_plan_duration_seconds",
    "Making one DataPlan in the ai-service, by the planner that made it.",
    ["planner"],
    buckets=_LONG_SECONDS,
)
AI_PLAN_FALLBACKS = Counter(
    "orchestra_ai_plan_fallbacks",
    "Plans the built-in planner made because the model could not, by reason.",
    ["reason"],
)

_SLUG = re.compile(r"[^a-z0-9_.-]+")
_seen_environments: set[str] = set()
_seen_lock = threading.Lock()


def environment_label(name: str) -> str:
    """The label of an environment: its name as a slug of at most 40 characters, or ``other`` once this
    process has seen ``MAX_ENVIRONMENT_LABELS`` distinct ones."""
    slug = _SLUG.sub("-", name.strip().lower()).strip("-")[:40] or OTHER
    with _seen_lock:
        if slug in _seen_environments:
            return slug
        if len(_seen_environments) >= MAX_ENVIRONMENT_LABELS:
            return OTHER
        _seen_environments.add(slug)
    return slug


# The labelled histograms of SUT requests already used, by (environment name, status class): a step's request
# would otherwise make its environment's slug (a regular expression) and look the labels up every time.
_sut_request_children: dict[tuple[str, str], Any] = {}
_MAX_SUT_REQUEST_CHILDREN = 8 * MAX_ENVIRONMENT_LABELS  # names beyond it are labelled, just not kept


def observe_sut_request(environment: str, status_code: int | None, seconds: float) -> None:
    """One request to the SUT in ``orchestra_sut_request_duration_seconds`` (``environment``: its name, or
    empty when the request belongs to none)."""
    key = (environment, status_class(status_code))
    child = _sut_request_children.get(key)
    if child is None:
        label = environment_label(environment) if environment else OTHER
        child = SUT_REQUEST_DURATION.labels(label, key[1])
        if len(_sut_request_children) < _MAX_SUT_REQUEST_CHILDREN:
            _sut_request_children[key] = child
    child.observe(seconds)


def status_class(status_code: int | None) -> str:
    """``2xx`` … ``5xx`` for a response, ``error`` for none (a transport error, a refused URL)."""
    if status_code is None or not 100 <= status_code <= 599:
        return "error"
    return f"{status_code // 100}xx"


def outcome_label(status: str) -> str:
    return status if status in RUN_OUTCOMES else OTHER


def exposition() -> tuple[bytes, str]:
    """The process's metrics in the Prometheus text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def scrape_status(authorization: str | None, token: str | None, *, open_without_token: bool) -> int:
    """200 when a scraper may read the metrics; 401 for a missing or wrong bearer token when one is
    configured; 404 when none is and the port is a public one (``open_without_token`` false)."""
    if token is None:
        return 200 if open_without_token else 404
    scheme, _, sent = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode()):
        return 200
    return 401
