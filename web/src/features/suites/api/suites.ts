import { queryOptions } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/shared/api/client";

export type SuiteSummary = Schemas["SuiteSummary"];
export type Member = Schemas["TestCaseSummary"];

export type SuitesSearch = { project?: string };

export function parseSuitesSearch(search: Record<string, unknown>): SuitesSearch {
  return { project: typeof search.project === "string" && search.project.trim() ? search.project.trim() : undefined };
}

export { suitesQuery } from "@/shared/api/projects";

export const suiteQuery = (project: string, name: string) =>
  queryOptions({
    queryKey: ["suites", project, name],
    queryFn: () => unwrap(api.GET("/api/v1/projects/{project}/suites/{suite}", { params: { path: { project, suite: name } } })),
  });

/** The project's test cases with their latest runs: a suite's members are shown with their verdicts. */
export const membersQuery = (project: string) =>
  queryOptions({
    queryKey: ["test-cases", project, "all"],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{project}/test-cases", { params: { path: { project }, query: { limit: 500 } } }),
      ),
  });

export const suiteYamlQuery = (project: string, name: string) =>
  queryOptions({
    queryKey: ["suite-yaml", project, name],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{project}/suites/{suite}/yaml", {
          params: { path: { project, suite: name } },
          parseAs: "text",
        }),
      ),
  });

