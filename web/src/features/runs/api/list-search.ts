// What the runs list and the suite-runs list read from their URLs the same way: a page, a status, a text
// filter, a local time and an order. Anything the API would refuse is dropped, so a hand-edited or stale
// link still opens a working list.
import type { paths } from "@/shared/api/schema";
import type { Schemas } from "@/shared/api/client";

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
export const PAGE_SIZE = 25;

type RunsQueryParams = NonNullable<paths["/api/v1/runs"]["get"]["parameters"]["query"]>;
/** The orders both lists take ("-": descending); newest first is the default (not put in the URL). */
export type ListSort = NonNullable<RunsQueryParams["sort"]>;
export const LIST_SORTS: ListSort[] = [
  "-created_at",
  "created_at",
  "name",
  "-name",
  "status",
  "-status",
  "duration",
  "-duration",
];
export const DEFAULT_SORT: ListSort = "-created_at";
/** The longest text the API takes for a name, a reference or a text filter. */
export const MAX_FILTER_LENGTH = 200;

export function pageOf(value: unknown): number {
  const page = Number(value);
  return Number.isInteger(page) && page > 0 ? page : 1;
}

export function statusOf(value: unknown): RunStatus | undefined {
  return typeof value === "string" && (RUN_STATUSES as string[]).includes(value) ? (value as RunStatus) : undefined;
}

/** An order other than the default (the default is not put in the URL). */
export function sortOf(value: unknown): ListSort | undefined {
  return typeof value === "string" && value !== DEFAULT_SORT && (LIST_SORTS as string[]).includes(value)
    ? (value as ListSort)
    : undefined;
}

export function textOf(value: unknown): string | undefined {
  if (typeof value === "number") value = String(value); // the router reads ?tag=7 as a number
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed && trimmed.length <= MAX_FILTER_LENGTH ? trimmed : undefined;
}

const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

/** A local time as a datetime-local input gives it (``2026-12-01T09:30``). */
export function localTimeOf(value: unknown): string | undefined {
  return typeof value === "string" && LOCAL_TIME.test(value) && !Number.isNaN(new Date(value).getTime())
    ? value
    : undefined;
}

/** A local time of a datetime-local input as the API's ISO 8601 instant. */
export function toInstant(local: string | undefined): string | null {
  return local ? new Date(local).toISOString() : null;
}

/** What both lists keep in the URL alike. */
export type CommonListSearch = {
  page: number;
  status?: RunStatus;
  project?: string;
  suite?: string;
  q?: string;
  after?: string;
  before?: string;
  sort?: ListSort;
};

/** The API query of what both lists share: a page, the common filters and the order. */
export function commonListQuery(search: CommonListSearch) {
  return {
    limit: PAGE_SIZE,
    offset: (search.page - 1) * PAGE_SIZE,
    status: search.status ?? null,
    project: search.project ?? null,
    suite: search.suite ?? null,
    q: search.q ?? null,
    created_after: toInstant(search.after),
    created_before: toInstant(search.before),
    sort: search.sort,
  };
}
