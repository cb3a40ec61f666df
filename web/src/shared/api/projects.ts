import { queryOptions } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/shared/api/client";

/** Every project the caller sees (a project-scoped token: its own), by name. */
export const projectsQuery = () =>
  queryOptions({
    queryKey: ["projects"],
    queryFn: () => unwrap(api.GET("/api/v1/projects", { params: { query: { limit: 500 } } })),
    staleTime: 60_000,
  });

/** A project's environments (every screen that names one lists them from here). */
export const environmentsQuery = (project: string) =>
  queryOptions({
    queryKey: ["environments", project],
    queryFn: () =>
      unwrap(api.GET("/api/v1/projects/{project}/environments", { params: { path: { project }, query: { limit: 500 } } })),
  });

/** A project's suites. */
export const suitesQuery = (project: string) =>
  queryOptions({
    queryKey: ["suites", project],
    queryFn: () =>
      unwrap(api.GET("/api/v1/projects/{project}/suites", { params: { path: { project }, query: { limit: 500 } } })),
  });

export type Project = Schemas["ProjectOut"];
