import { queryOptions } from "@tanstack/react-query";
import { api, ApiError, unwrap } from "@/shared/api/client";

// The request body limit of the API (ORCHESTRA_MAX_REQUEST_BYTES' default); a file is sent as JSON text.
export const MAX_UPLOAD_BYTES = 2 * 1024 * 1024 - 1024;

const path = (project: string, environment: string) => ({ params: { path: { project, environment } } });

/** The imported description's summary, or null when none was imported (the API's 404). */
export const openapiQuery = (project: string, environment: string) =>
  queryOptions({
    queryKey: ["environments", project, environment, "openapi"],
    queryFn: async () => {
      try {
        return await unwrap(api.GET("/api/v1/projects/{project}/environments/{environment}/openapi", path(project, environment)));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }
    },
  });

export const operationsQuery = (project: string, environment: string) =>
  queryOptions({
    queryKey: ["environments", project, environment, "openapi", "operations"],
    queryFn: () =>
      unwrap(api.GET("/api/v1/projects/{project}/environments/{environment}/openapi/operations", path(project, environment))),
  });

export function checkSpecUrl(value: string): string | null {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? null : "Only http:// and https:// URLs.";
  } catch {
    return "Give the URL of the OpenAPI description, e.g. http://localhost:8080/openapi.json.";
  }
}

export function checkSpecFile(file: File | undefined): string | null {
  if (!file) return "Choose a file (JSON or YAML).";
  if (file.size === 0) return "The file is empty.";
  if (file.size > MAX_UPLOAD_BYTES) return "The file is larger than 2 MiB: import it from a URL instead.";
  return null;
}

/** Import from a URL (fetched by Orchestra under the environment's egress rules) or from a file's text. */
export function importSpec(project: string, environment: string, source: { url: string } | { text: string }) {
  return unwrap(
    api.PUT("/api/v1/projects/{project}/environments/{environment}/openapi", {
      ...path(project, environment),
      body: source,
    }),
  );
}
