// Who is signed in, as the API sees it (GET /api/v1/me): what the screens show and enable. The API stays
// the only enforcer; this only spares a visitor buttons that would be refused.
import { queryOptions, useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/shared/api/client";

export type Me = Schemas["MeOut"];
export type Role = Me["role"];

const RANK: Record<Role, number> = { viewer: 1, editor: 2, admin: 3 };

export const meQuery = () =>
  queryOptions({
    queryKey: ["me"],
    queryFn: () => unwrap(api.GET("/api/v1/me")),
    staleTime: 60_000,
  });

/** Whether ``me`` has at least ``role`` (false while it is not known yet). */
export function hasRole(me: Me | undefined, role: Role): boolean {
  return me !== undefined && RANK[me.role] >= RANK[role];
}

export function useMe(): Me | undefined {
  return useQuery(meQuery()).data;
}

/** Whether the caller has at least ``role``; false until the API has answered. */
export function useHasRole(role: Role): boolean {
  return hasRole(useMe(), role);
}
