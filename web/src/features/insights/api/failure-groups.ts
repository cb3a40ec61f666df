import { queryOptions } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/shared/api/client";
import type { Window } from "./insights";

export type FailureGroup = Schemas["FailureGroupOut"];
export type FailureGroupDetail = Schemas["FailureGroupDetail"];
/** What changed when a group appeared (its pairs are last pass → first failure). */
export type FirstChange = Omit<NonNullable<FailureGroupDetail["first_change"]>, "test_case_version" | "response_status"> & {
  test_case_version: readonly (number | null)[];
  response_status: readonly (number | null)[];
};

export const GROUPS_PER_PAGE = 20;
export const MAX_ISSUE_URL = 2000;

/** The project's failure groups with failures in the window, the most failures first. */
export const failureGroupsQuery = (project: string, days: Window, page: number) =>
  queryOptions({
    queryKey: ["failure-groups", project, days, page],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/insights/failure-groups", {
          params: { query: { project, days, limit: GROUPS_PER_PAGE, offset: (page - 1) * GROUPS_PER_PAGE } },
        }),
      ),
  });

/** One group: every failure's count by test case, its latest runs, and what changed when it appeared. */
export const failureGroupQuery = (groupId: string) =>
  queryOptions({
    queryKey: ["failure-groups", "detail", groupId],
    queryFn: () =>
      unwrap(api.GET("/api/v1/insights/failure-groups/{group_id}", { params: { path: { group_id: groupId } } })),
  });

/** Null when the address can be sent; else what is wrong with it (the API checks it again). */
export function checkIssueUrl(url: string): string | null {
  const value = url.trim();
  if (!value) return "Give the issue's address.";
  if (value.length > MAX_ISSUE_URL) return `At most ${MAX_ISSUE_URL} characters.`;
  if (!/^https?:\/\/[^\s/?#]+\S*$/.test(value)) return "An http:// or https:// address, without spaces.";
  return null;
}

export function linkIssue(groupId: string, url: string) {
  return unwrap(
    api.PUT("/api/v1/insights/failure-groups/{group_id}/issue", {
      params: { path: { group_id: groupId } },
      body: { url: url.trim() },
    }),
  );
}

export function unlinkIssue(groupId: string) {
  return unwrap(
    api.DELETE("/api/v1/insights/failure-groups/{group_id}/issue", { params: { path: { group_id: groupId } } }),
  );
}

/** What changed when the group appeared, as short sentences (empty: nothing known changed). */
export function changeLines(change: FirstChange): string[] {
  const lines: string[] = [];
  const [passVersion, failVersion] = change.test_case_version;
  if (!change.previous_pass) lines.push("The test case had not passed on this environment before.");
  if (change.previous_pass && passVersion !== failVersion) {
    lines.push(`Test-case version v${passVersion ?? "?"} → v${failVersion ?? "?"}.`);
  }
  if (change.environment_changed) lines.push(`Environment ${change.environment} was edited in between.`);
  if (change.variables.length) {
    lines.push(`Variables: ${change.variables.map((each) => `${each.path} ${each.change}`).join(", ")}.`);
  }
  const [passStatus, failStatus] = change.response_status;
  if (change.step) {
    const status = passStatus !== failStatus ? ` answered ${passStatus ?? "nothing"} → ${failStatus ?? "nothing"}` : "";
    lines.push(`Step ${change.step}${status}${change.response_body.length ? `, body: ${change.response_body.length} differences` : ""}.`);
  }
  return lines;
}

/** The failure groups screen's state in the URL: the project, the window and the page. */
export type FailureGroupsSearch = { project?: string; days?: Window; page?: number };

export function parseFailureGroupsSearch(search: Record<string, unknown>): FailureGroupsSearch {
  const project = typeof search.project === "string" && search.project.trim() ? search.project.trim() : undefined;
  const days = [7, 30, 90].includes(Number(search.days)) ? (Number(search.days) as Window) : undefined;
  const page = Number(search.page);
  return { project, days, page: Number.isInteger(page) && page > 1 && page <= 10_000 ? page : undefined };
}
