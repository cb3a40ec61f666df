import { keepPreviousData, queryOptions } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/shared/api/client";
import { unwrapDefinition } from "./problems";

export type TestCaseSummary = Schemas["TestCaseSummary"];
export type TestCase = Schemas["TestCaseOut"];
export type Saved = Schemas["TestCasePutOut"];
export type Applied = Schemas["ApplyResult"];
export const PAGE_SIZE = 50;

/** The list's state in the URL: which project, which page. */
export type TestCasesSearch = { project?: string; page: number };

export function parseTestCasesSearch(search: Record<string, unknown>): TestCasesSearch {
  const page = Number(search.page);
  const project = typeof search.project === "string" && search.project.trim() ? search.project.trim() : undefined;
  return { project, page: Number.isInteger(page) && page > 0 ? page : 1 };
}


export const testCasesQuery = (project: string, page: number) =>
  queryOptions({
    queryKey: ["test-cases", project, page],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{project}/test-cases", {
          params: { path: { project }, query: { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE } },
        }),
      ),
    placeholderData: keepPreviousData,
  });

export const testCaseQuery = (project: string, name: string) =>
  queryOptions({
    queryKey: ["test-case", project, name],
    queryFn: () =>
      unwrap(api.GET("/api/v1/projects/{project}/test-cases/{test_case}", { params: { path: { project, test_case: name } } })),
  });

/** A version's YAML file, as the API writes it (what `orchestra apply` reads). Versions never change. */
export const testCaseYamlQuery = (project: string, name: string, version: number) =>
  queryOptions({
    queryKey: ["test-case-yaml", project, name, version],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{project}/test-cases/{test_case}/yaml", {
          params: { path: { project, test_case: name }, query: { version } },
          parseAs: "text",
        }),
      ),
    staleTime: Infinity,
  });

export const versionsQuery = (project: string, name: string) =>
  queryOptions({
    queryKey: ["test-case-versions", project, name],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{project}/test-cases/{test_case}/versions", {
          params: { path: { project, test_case: name }, query: { limit: 500 } },
        }),
      ),
  });

export { environmentsQuery } from "@/shared/api/projects";

/** Save the editor's text: ``baseVersion`` 0 creates (refused when the name exists), N updates version N. */
export function saveTestCaseYaml(project: string, name: string, content: string, baseVersion: number): Promise<Saved> {
  return unwrapDefinition(
    api.PUT("/api/v1/projects/{project}/test-cases/{name}/yaml", {
      params: { path: { project, name } },
      body: { content, base_version: baseVersion },
    }),
  );
}

/** Apply YAML files (test cases and suites) to the project, all or nothing. */
export function applyFiles(project: string, files: { name: string; content: string }[]): Promise<Applied> {
  return unwrapDefinition(
    api.POST("/api/v1/projects/{project}/apply/files", { params: { path: { project } }, body: { files } }),
  );
}

/** Start a run of the test case's current version; the run's id. */
export async function runNow(project: string, testCase: string, environment: string): Promise<string> {
  const created = await unwrap(
    api.POST("/api/v1/runs", { body: { project, environment, test_case: testCase, trigger: "manual" } }),
  );
  return created.id;
}


/** The file name the API would give (see the API's download_name). */
export function fileName(name: string): string {
  const stem = name.replace(/\.yaml$/, "").replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[-.]+|[-.]+$/g, "") || "definition";
  return `${stem.slice(0, 120)}.yaml`;
}

/** The JSON Schema of test cases the API publishes (what the editor checks and completes from). */
export const testCaseSchemaQuery = () =>
  queryOptions({
    queryKey: ["schema", "testcase"],
    queryFn: () => unwrap(api.GET("/api/v1/schemas/testcase.json")) as Promise<unknown>,
    staleTime: Infinity,
  });

/** The detail screen's state in the URL: the tab (versions or results; else the editor), which versions are
 * compared. */
export type TestCaseSearch = { tab?: "history" | "results"; from?: number; to?: number };

export function parseTestCaseSearch(search: Record<string, unknown>): TestCaseSearch {
  const version = (value: unknown) => {
    const number = Number(value);
    return Number.isInteger(number) && number > 0 ? number : undefined;
  };
  const tab = search.tab === "history" || search.tab === "results" ? search.tab : undefined;
  return { tab, from: version(search.from), to: version(search.to) };
}
