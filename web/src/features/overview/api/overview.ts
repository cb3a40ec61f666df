import { queryOptions } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/shared/api/client";

export type Run = Schemas["RunOut"];
type ActiveStatus = "IN_PROGRESS" | "QUEUED" | "PENDING";

/** Runs of one active status (a few of them, and how many in all); refreshed every few seconds. */
export const activeRunsQuery = (status: ActiveStatus) =>
  queryOptions({
    queryKey: ["overview", "runs", status],
    queryFn: () => unwrap(api.GET("/api/v1/runs", { params: { query: { status, limit: 5 } } })),
    refetchInterval: 3000,
  });

export const recentRunsQuery = () =>
  queryOptions({
    queryKey: ["overview", "recent"],
    queryFn: () => unwrap(api.GET("/api/v1/runs", { params: { query: { limit: 10 } } })),
    refetchInterval: 5000,
  });
