import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "./client";

/** The projects the caller sees (a project-scoped token: its own only), by name. */
export const projectsQuery = () =>
  queryOptions({
    queryKey: ["projects"],
    queryFn: () => unwrap(api.GET("/api/v1/projects", { params: { query: { limit: 500 } } })),
    staleTime: 60_000,
  });
