import { keepPreviousData, queryOptions } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/shared/api/client";
import type { paths } from "@/shared/api/schema";

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

type RunsQueryParams = NonNullable<paths["/api/v1/runs"]["get"]["parameters"]["query"]>;
export type RunSort = NonNullable<RunsQueryParams["sort"]>;
/** The orders the API lists runs in ("-": descending); newest first is the default (not put in the URL). */
export const RUN_SORTS: RunSort[] = [
  "-created_at",
  "created_at",
  "name",
  "-name",
  "status",
  "-status",
  "duration",
  "-duration",
];
export const DEFAULT_SORT: RunSort = "-created_at";
/** The longest text the API takes for suite, tag and the text in a run's name. */
export const MAX_FILTER_LENGTH = 200;

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

function isStatus(value: unknown): value is RunStatus {
  return typeof value === "string" && (RUN_STATUSES as string[]).includes(value);
}

function isSort(value: unknown): value is RunSort {
  return typeof value === "string" && value !== DEFAULT_SORT && (RUN_SORTS as string[]).includes(value);
}

function text(value: unknown): string | undefined {
  if (typeof value === "number") value = String(value); // the router reads ?tag=7 as a number
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed && trimmed.length <= MAX_FILTER_LENGTH ? trimmed : undefined;
}

const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

function localTime(value: unknown): string | undefined {
  return typeof value === "string" && LOCAL_TIME.test(value) && !Number.isNaN(new Date(value).getTime())
    ? value
    : undefined;
}

/** A local time of a datetime-local input as the API's ISO 8601 instant. */
export function toInstant(local: string | undefined): string | null {
  return local ? new Date(local).toISOString() : null;
}

export function parseRunsSearch(search: Record<string, unknown>): RunsSearch {
  const page = Number(search.page);
  // Every key is set (undefined when absent or invalid), so nothing of the raw URL survives next to it.
  return {
    page: Number.isInteger(page) && page > 0 ? page : 1,
    status: isStatus(search.status) ? search.status : undefined,
    project: text(search.project),
    suite: text(search.suite),
    tag: text(search.tag),
    q: text(search.q),
    after: localTime(search.after),
    before: localTime(search.before),
    sort: isSort(search.sort) ? search.sort : undefined,
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
              suite: search.suite ?? null,
              tag: search.tag ?? null,
              q: search.q ?? null,
              created_after: toInstant(search.after),
              created_before: toInstant(search.before),
              sort: search.sort,
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
