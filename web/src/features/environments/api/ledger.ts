import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "@/shared/api/client";

/** What runs created in the SUT and did not undo yet (pending) or could not undo (failed). */
export const leftoversQuery = (project: string, environment: string, status: "pending" | "failed") =>
  queryOptions({
    queryKey: ["environments", project, environment, "ledger", status],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{project}/environments/{environment}/ledger", {
          params: { path: { project, environment }, query: { status, limit: 50 } },
        }),
      ),
  });

/** Undo the leftovers now; the report says what was cleaned and what could not be. */
export function sweep(project: string, environment: string) {
  return unwrap(
    api.POST("/api/v1/projects/{project}/environments/{environment}/sweep", { params: { path: { project, environment } } }),
  );
}
