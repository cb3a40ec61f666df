import type { Schemas } from "@/shared/api/client";

type Run = Schemas["RunOut"];
type SuiteRun = Schemas["SuiteRunOut"];
type Step = Schemas["StepResultOut"];

export const PROJECT_ID = "11111111-1111-4111-8111-111111111111";

export function makeStep(overrides: Partial<Step> = {}): Step {
  return {
    seq: 0,
    phase: "main",
    name: "get the order",
    status: "passed",
    attempts: 1,
    request: { method: "GET", url: "http://sut.test/orders/1", headers: { accept: "*/*" }, body: "", body_bytes: 0 },
    response: {
      status: 200,
      reason: "OK",
      headers: { "content-type": "application/json" },
      body: '{"id": 1}',
      body_bytes: 9,
      elapsed_ms: 12.5,
    },
    assertions: [],
    error: null,
    started_at: "2026-01-01T10:00:00Z",
    duration_ms: 13,
    ...overrides,
  };
}

export function makeRun(overrides: Partial<Run> = {}): Run {
  return {
    id: "22222222-2222-4222-8222-222222222222",
    name: "order can be paid",
    project_id: PROJECT_ID,
    suite_run_id: null,
    test_case_id: "33333333-3333-4333-8333-333333333333",
    test_case_version_id: "44444444-4444-4444-8444-444444444444",
    test_case_version: 1,
    environment: "demo",
    status: "FAILED",
    status_reason: "a check failed",
    priority: 100,
    trigger: "manual",
    attempt: 1,
    lease_owner: null,
    lease_expires_at: null,
    fencing_token: 1,
    heartbeat_at: null,
    cancel_requested: false,
    variables: {},
    data_plan: null,
    created_at: "2026-01-01T10:00:00Z",
    queued_at: "2026-01-01T10:00:00Z",
    started_at: "2026-01-01T10:00:01Z",
    finished_at: "2026-01-01T10:00:02Z",
    duration_ms: 1000,
    queue_position: null,
    waiting_for: null,
    mute: null,
    muted: false,
    known_issue: null,
    failure_group_id: null,
    retry_failed: 0,
    retry_of: null,
    retried_by: null,
    flaky: false,
    steps: [],
    ...overrides,
  };
}

export function makeSuiteRun(overrides: Partial<SuiteRun> = {}): SuiteRun {
  return {
    id: "55555555-5555-4555-8555-555555555555",
    name: "nightly",
    project_id: PROJECT_ID,
    suite_id: "66666666-6666-4666-8666-666666666666",
    environment: "demo",
    status: "PASSED",
    priority: 0,
    trigger: "schedule",
    variables: {},
    counts: { PASSED: 3, FAILED: 1 },
    muted: 0,
    flaky: 0,
    total: 4,
    created_at: "2026-01-01T10:00:00Z",
    started_at: "2026-01-01T10:00:01Z",
    finished_at: "2026-01-01T10:00:05Z",
    duration_ms: 4000,
    waiting_for: null,
    runs: [],
    setup: null,
    teardown: null,
    ...overrides,
  };
}
