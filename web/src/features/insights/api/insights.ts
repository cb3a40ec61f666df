import { queryOptions } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/shared/api/client";

export type Trends = Schemas["TrendsOut"];
export type TrendBucket = Schemas["TrendBucket"];
export type Flakiness = Schemas["FlakinessOut"];
export type Comparison = Schemas["RunComparison"];
export type StepComparison = Schemas["StepComparison"];
export type Difference = Schemas["DifferenceOut"];

export const WINDOWS = [7, 30, 90] as const;
export type Window = (typeof WINDOWS)[number];
export const RECENT_RUNS = 50;

/** The last pass before a run, the default the comparison screen opens with. */
export const LAST_PASS = "last_pass";

export const trendsQuery = (project: string, testCase: string, days: Window) =>
  queryOptions({
    queryKey: ["insights", "trends", project, testCase, days],
    queryFn: () =>
      unwrap(api.GET("/api/v1/insights/trends", { params: { query: { project, test_case: testCase, days } } })),
  });

/** The test case's flakiness over the window; null when it has no finished run in it. */
export const flakinessQuery = (project: string, testCase: string, days: Window) =>
  queryOptions({
    queryKey: ["insights", "flakiness", project, testCase, days],
    queryFn: async () => {
      const page = await unwrap(
        api.GET("/api/v1/insights/flakiness", {
          params: { query: { project, test_case: testCase, days, limit: 1, offset: 0 } },
        }),
      );
      return page.items[0] ?? null;
    },
  });

/** The test case's latest runs, newest first. */
export const testCaseRunsQuery = (project: string, testCase: string) =>
  queryOptions({
    queryKey: ["runs", "of-test-case", project, testCase],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/runs", {
          params: { query: { project, test_case: testCase, limit: RECENT_RUNS, offset: 0 } },
        }),
      ),
  });

export const comparisonQuery = (runId: string, other: string) =>
  queryOptions({
    queryKey: ["compare", runId, other],
    queryFn: () =>
      unwrap(api.GET("/api/v1/runs/{run_id}/compare", { params: { path: { run_id: runId }, query: { with: other } } })),
    retry: false, // a 404 (no earlier pass) is an answer, not a hiccup
  });

/** The comparison screen's state in the URL: the run on the right (a run id, or the last pass). */
export type CompareSearch = { with: string };

export function parseCompareSearch(search: Record<string, unknown>): CompareSearch {
  const other = typeof search.with === "string" ? search.with.trim() : "";
  return { with: other && other.length <= 40 ? other : LAST_PASS };
}

export function parseWindow(value: unknown): Window {
  const days = Number(value);
  return (WINDOWS as readonly number[]).includes(days) ? (days as Window) : 30;
}

/** The last failed run and the last pass before it, among runs listed newest first (null: no such pair). */
export function lastFailureAndPass(runs: { id: string; status: string }[]): { failed: string; passed: string } | null {
  const failedAt = runs.findIndex((run) => run.status === "FAILED" || run.status === "ERROR");
  const failed = runs[failedAt];
  const passed = runs.slice(failedAt + 1).find((run) => run.status === "PASSED");
  return failed && passed ? { failed: failed.id, passed: passed.id } : null;
}

/** A value of a difference as short text ("—" for absent). */
export function shortValue(value: unknown, limit = 120): string {
  if (value === undefined) return "—";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}
