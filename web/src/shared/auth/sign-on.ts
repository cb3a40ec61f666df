// Single sign-on (OpenID Connect authorization code + PKCE, e.g. Keycloak) with oidc-client-ts, driven from
// React by react-oidc-context (sign-on-provider.tsx). The API says whether it is configured
// (GET /api/v1/auth/options: issuer and public client); this module turns that answer into the UserManager.
// The tokens are kept in sessionStorage, never in a URL.
import { queryOptions } from "@tanstack/react-query";
import { UserManager, WebStorageStateStore } from "oidc-client-ts";
import { api, unwrap, type Schemas } from "@/shared/api/client";

export type SignOnOptions = NonNullable<Schemas["SignInOptionsOut"]["oidc"]>;
export const CALLBACK_PATH = "/auth/callback";
export const SIGNED_OUT_PATH = "/sign-in";

export const signInOptionsQuery = () =>
  queryOptions({
    queryKey: ["sign-in-options"],
    queryFn: () => unwrap(api.GET("/api/v1/auth/options")),
    staleTime: Infinity,
  });

/** The UserManager for these options: back at /auth/callback after signing in, at /sign-in after signing
 * out; the access token renewed with the refresh token before it expires. The user (tokens) and a sign-in's
 * state (the PKCE verifier) are kept in this tab's sessionStorage, not in localStorage as by default. */
export function signOnManager(options: SignOnOptions): UserManager {
  const origin = globalThis.location.origin;
  return new UserManager({
    authority: options.issuer,
    client_id: options.client_id,
    scope: options.scope,
    redirect_uri: `${origin}${CALLBACK_PATH}`,
    post_logout_redirect_uri: `${origin}${SIGNED_OUT_PATH}`,
    response_type: "code",
    userStore: new WebStorageStateStore({ store: globalThis.sessionStorage }),
    stateStore: new WebStorageStateStore({ store: globalThis.sessionStorage }),
    automaticSilentRenew: true,
  });
}

/** Whether ``next`` is a page of this application to go to after signing in: a path starting with one `/`
 * that stays on this origin (not `//host`, `/\host` or `https://host`, which a browser would leave for). */
export function isSafeNext(next: string): boolean {
  if (!next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return false;
  const origin = globalThis.location.origin;
  try {
    return new URL(next, origin).origin === origin; // what the URL parser makes of it (tabs, newlines) too
  } catch {
    return false;
  }
}

/** Where to go after signing in: ``next`` when it is safe, else the overview. */
export function safeNext(next: unknown): string {
  return typeof next === "string" && isSafeNext(next) ? next : "/";
}
