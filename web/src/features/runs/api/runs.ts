import { keepPreviousData, queryOptions } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/shared/api/client";

export type Run = Schemas["RunOut"];
export type Step = Schemas["StepResultOut"];
export type RunStatus = Schemas["RunStatus"];

export const RUN_STATUSES: RunStatus[] = [
  "PENDING",
  "QUEUED",
  "IN_PROGRESS",
  "PASSED",
  "FAILED",
  "ERROR",
  "CANCELLED",
  "TIMED_OUT",
];
export const TERMINAL: ReadonlySet<RunStatus> = new Set(["PASSED", "FAILED", "ERROR", "CANCELLED", "TIMED_OUT"]);
export const PAGE_SIZE = 25;

/** The runs list's state, kept in the URL's search params (shareable links). */
export type RunsSearch = { page: number; status?: RunStatus; project?: string };

function isStatus(value: unknown): value is RunStatus {
  return typeof value === "string" && (RUN_STATUSES as string[]).includes(value);
}

export function parseRunsSearch(search: Record<string, unknown>): RunsSearch {
  const page = Number(search.page);
  const project = typeof search.project === "string" && search.project.trim() ? search.project.trim() : undefined;
  // Every key is set (undefined when absent or invalid), so nothing of the raw URL survives next to it.
  return {
    page: Number.isInteger(page) && page > 0 ? page : 1,
    status: isStatus(search.status) ? search.status : undefined,
    project,
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
              limit: PAGE_SIZE,
              offset: (search.page - 1) * PAGE_SIZE,
              status: search.status ?? null,
              project: search.project ?? null,
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
