import { keepPreviousData, queryOptions } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/shared/api/client";
import {
  commonListQuery,
  localTimeOf,
  pageOf,
  sortOf,
  statusOf,
  textOf,
  type ListSort,
  type RunStatus,
} from "./list-search";

export type Run = Schemas["RunOut"];
export type Step = Schemas["StepResultOut"];
export type { RunStatus } from "./list-search";
export { DEFAULT_SORT, MAX_FILTER_LENGTH, PAGE_SIZE, RUN_STATUSES, toInstant } from "./list-search";
export const TERMINAL: ReadonlySet<RunStatus> = new Set(["PASSED", "FAILED", "ERROR", "CANCELLED", "TIMED_OUT"]);
export type RunSort = ListSort;

/** The runs list's state, kept in the URL's search params (shareable links). ``after`` and ``before`` are
 * local times as a datetime-local input gives them (``2026-12-01T09:30``). */
export type RunsSearch = {
  page: number;
  status?: RunStatus;
  project?: string;
  suite?: string;
  tag?: string;
  q?: string;
  after?: string;
  before?: string;
  sort?: RunSort;
};

export function parseRunsSearch(search: Record<string, unknown>): RunsSearch {
  // Every key is set (undefined when absent or invalid), so nothing of the raw URL survives next to it.
  return {
    page: pageOf(search.page),
    status: statusOf(search.status),
    project: textOf(search.project),
    suite: textOf(search.suite),
    tag: textOf(search.tag),
    q: textOf(search.q),
    after: localTimeOf(search.after),
    before: localTimeOf(search.before),
    sort: sortOf(search.sort),
  };
}

export const runsQuery = (search: RunsSearch) =>
  queryOptions({
    queryKey: ["runs", search],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/runs", {
          params: {
            query: {
              ...commonListQuery(search),
              tag: search.tag ?? null,
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });

export const runQuery = (runId: string) =>
  queryOptions({
    queryKey: ["run", runId],
    queryFn: () => unwrap(api.GET("/api/v1/runs/{run_id}", { params: { path: { run_id: runId } } })),
  });

/** A suite run's status and counts (not its runs' steps). */
export const suiteRunQuery = (suiteRunId: string) =>
  queryOptions({
    queryKey: ["suite-run", suiteRunId],
    queryFn: () =>
      unwrap(api.GET("/api/v1/suite-runs/{suite_run_id}", { params: { path: { suite_run_id: suiteRunId } } })),
  });

export { projectsQuery } from "@/shared/api/projects";
