import { api } from "@/shared/api/client";

export type TokenCheck = "accepted" | "refused" | "unreachable";

/** Whether the API accepts ``token`` (asked before it is kept, so a typo is caught at once). */
export async function checkToken(token: string): Promise<TokenCheck> {
  try {
    const { response } = await api.GET("/api/v1/runs", {
      params: { query: { limit: 1 } },
      headers: { Authorization: `Bearer ${token}` },
    });
    if (response.ok) return "accepted";
    return response.status === 401 || response.status === 403 ? "refused" : "unreachable";
  } catch {
    return "unreachable";
  }
}
