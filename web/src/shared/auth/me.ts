// Who the API says the signed-in caller is (GET /me): the role decides what the screens offer. The API
// checks the role of every request anyway; this only spares a viewer buttons that would be refused.
import { queryOptions, useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/shared/api/client";

export type Me = Schemas["WhoAmI"];
export type Role = Me["role"];
const RANK: Record<Role, number> = { viewer: 1, editor: 2, admin: 3 };

export const meQuery = () =>
  queryOptions({
    queryKey: ["me"],
    queryFn: () => unwrap(api.GET("/api/v1/me")),
    staleTime: 5 * 60_000,
  });

/** Whether the caller has at least ``role``; false until the API has answered. */
export function useHasRole(role: Role): boolean {
  const me = useQuery(meQuery());
  return me.data !== undefined && RANK[me.data.role] >= RANK[role];
}
