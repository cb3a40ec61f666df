import { queryOptions } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/shared/api/client";
import { checkName } from "@/shared/forms/checks";

export type Token = Schemas["TokenOut"];
export type TokenRole = Token["role"];
export const ROLES: TokenRole[] = ["viewer", "editor", "admin"];

/** The tenant's tokens (never their value: the API keeps only a hash), newest first. */
export const tokensQuery = () =>
  queryOptions({
    queryKey: ["tokens"],
    queryFn: () => unwrap(api.GET("/api/v1/tokens", { params: { query: { limit: 500 } } })),
  });

export type TokenDraft = { name: string; role: TokenRole; project: string; expires: string };
export const TOKEN_FIELDS = ["name", "role", "project", "expires_at"] as const;
export type TokenField = (typeof TOKEN_FIELDS)[number];

/** The end of the chosen day in UTC, as the API takes it; null without a day. */
export function expiryOf(day: string): string | null {
  return day ? `${day}T23:59:59Z` : null;
}

export function checkToken(draft: TokenDraft, needsProject: boolean, now = new Date()): Record<TokenField, string | null> {
  const expiry = expiryOf(draft.expires);
  let expires: string | null = null;
  if (draft.expires && Number.isNaN(Date.parse(expiry ?? ""))) expires = "Not a date.";
  else if (expiry && Date.parse(expiry) <= now.getTime()) expires = "Choose a day from today on.";
  return {
    name: checkName(draft.name, "token name"),
    role: null,
    project: needsProject && !draft.project ? "Name the project the token is for (only an admin makes tokens for every project)." : null,
    expires_at: expires,
  };
}

/** Create a token. The answer holds the token itself: the caller shows it once and drops it; nothing here
 * (no query, no mutation cache) keeps it. */
export function createToken(draft: TokenDraft) {
  return unwrap(
    api.POST("/api/v1/tokens", {
      body: {
        name: draft.name,
        role: draft.role,
        project: draft.project || null,
        expires_at: expiryOf(draft.expires),
      },
    }),
  );
}

export function revokeToken(tokenId: string) {
  return unwrap(api.DELETE("/api/v1/tokens/{token_id}", { params: { path: { token_id: tokenId } } }));
}
