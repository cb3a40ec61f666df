import { keepPreviousData, queryOptions } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/shared/api/client";

export type AuditEvent = Schemas["AuditEventOut"];
export const AUDIT_PAGE = 50;
/** An action's name: a route's (create_token) or an event's (token.used). */
export const ACTION = /^[a-z_.]{1,60}$/;

/** The audit log's filters, kept in the URL (a link shows the same page). */
export type AuditSearch = { page: number; action?: string; since?: string };

export function parseAuditSearch(search: Record<string, unknown>): AuditSearch {
  const page = Number(search.page);
  const action = typeof search.action === "string" && ACTION.test(search.action) ? search.action : undefined;
  const since =
    typeof search.since === "string" && /^\d{4}-\d{2}-\d{2}$/.test(search.since) && !Number.isNaN(Date.parse(search.since))
      ? search.since
      : undefined;
  return { page: Number.isInteger(page) && page > 0 ? page : 1, action, since };
}

export const auditQuery = (search: AuditSearch) =>
  queryOptions({
    queryKey: ["audit", search],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/audit", {
          params: {
            query: {
              limit: AUDIT_PAGE,
              offset: (search.page - 1) * AUDIT_PAGE,
              action: search.action ?? null,
              since: search.since ? `${search.since}T00:00:00Z` : null,
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
