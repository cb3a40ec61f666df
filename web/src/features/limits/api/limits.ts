import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "@/shared/api/client";
import { checkInteger, optionalNumber } from "@/shared/forms/checks";

export const MAX_ACTIVE_RUNS = 100_000;
export const MAX_WEIGHT = 1000;

export const platformLimitsQuery = () =>
  queryOptions({ queryKey: ["limits", "platform"], queryFn: () => unwrap(api.GET("/api/v1/limits")) });

export const tenantQuery = () =>
  queryOptions({ queryKey: ["limits", "tenant"], queryFn: () => unwrap(api.GET("/api/v1/tenant")) });

export function checkActiveRuns(value: string): string | null {
  return checkInteger(value, 1, MAX_ACTIVE_RUNS);
}

export function checkWeight(value: string): string | null {
  if (!value.trim()) return `Give a weight from 1 to ${MAX_WEIGHT}.`;
  return checkInteger(value, 1, MAX_WEIGHT);
}

/** Empty goes back to the default (ORCHESTRA_MAX_ACTIVE_RUNS). */
export function setPlatformLimit(value: string) {
  return unwrap(api.PUT("/api/v1/limits", { body: { max_active_runs: optionalNumber(value) } }));
}

export function updateTenant(weight: string, maxActiveRuns: string) {
  return unwrap(
    api.PATCH("/api/v1/tenant", { body: { weight: Number(weight), max_active_runs: optionalNumber(maxActiveRuns) } }),
  );
}

export function setProjectLimit(project: string, value: string) {
  return unwrap(
    api.PATCH("/api/v1/projects/{project}", {
      params: { path: { project } },
      body: { max_active_runs: optionalNumber(value) },
    }),
  );
}
