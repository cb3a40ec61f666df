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

export type SuiteRun = Schemas["SuiteRunOut"];
export const TRIGGERS = ["manual", "ci", "schedule", "api"] as const;

/** The suite-runs list's state, kept in the URL's search params (shareable links); ``after`` and ``before``
 * are local times as a datetime-local input gives them. */
export type SuiteRunsSearch = {
  page: number;
  status?: RunStatus;
  project?: string;
  environment?: string;
  suite?: string;
  trigger?: (typeof TRIGGERS)[number];
  q?: string;
  after?: string;
  before?: string;
  sort?: ListSort;
};

function triggerOf(value: unknown): SuiteRunsSearch["trigger"] {
  return TRIGGERS.find((trigger) => trigger === value);
}

export function parseSuiteRunsSearch(search: Record<string, unknown>): SuiteRunsSearch {
  // Every key is set (undefined when absent or invalid), so nothing of the raw URL survives next to it.
  return {
    page: pageOf(search.page),
    status: statusOf(search.status),
    project: textOf(search.project),
    environment: textOf(search.environment),
    suite: textOf(search.suite),
    trigger: triggerOf(search.trigger),
    q: textOf(search.q),
    after: localTimeOf(search.after),
    before: localTimeOf(search.before),
    sort: sortOf(search.sort),
  };
}

export const suiteRunsQuery = (search: SuiteRunsSearch) =>
  queryOptions({
    queryKey: ["suite-runs", search],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/suite-runs", {
          params: {
            query: {
              ...commonListQuery(search),
              environment: search.environment ?? null,
              trigger: search.trigger ?? null,
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
