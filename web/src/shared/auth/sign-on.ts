// Single sign-on (OpenID Connect authorization code + PKCE, e.g. Keycloak) with oidc-client-ts. The API says
// whether it is configured (GET /api/v1/auth/options: issuer and public client). The access token goes to
// `session` like a pasted token; it is renewed with the refresh token before it expires, and signing out ends
// the provider's session too. oidc-client-ts keeps its user (tokens) in sessionStorage, never in a URL.
import { queryOptions } from "@tanstack/react-query";
import { UserManager, WebStorageStateStore, type User } from "oidc-client-ts";
import { api, unwrap, type Schemas } from "@/shared/api/client";
import { session } from "./session";

export type SignOnOptions = NonNullable<Schemas["SignInOptionsOut"]["oidc"]>;
export const CALLBACK_PATH = "/auth/callback";

export const signInOptionsQuery = () =>
  queryOptions({
    queryKey: ["sign-in-options"],
    queryFn: () => unwrap(api.GET("/api/v1/auth/options")),
    staleTime: Infinity,
  });

let manager: UserManager | null = null;
let managerFor = "";

/** The one UserManager for these options (made on first use); it keeps `session` in step with its user. */
export function signOnManager(options: SignOnOptions): UserManager {
  const key = `${options.issuer} ${options.client_id}`;
  if (manager && managerFor === key) return manager;
  const origin = globalThis.location.origin;
  manager = new UserManager({
    authority: options.issuer,
    client_id: options.client_id,
    scope: options.scope,
    redirect_uri: `${origin}${CALLBACK_PATH}`,
    post_logout_redirect_uri: `${origin}/sign-in`,
    response_type: "code",
    userStore: new WebStorageStateStore({ store: globalThis.sessionStorage }),
    automaticSilentRenew: true, // with the refresh token, before the access token expires
  });
  managerFor = key;
  manager.events.addUserLoaded((user: User) => {
    if (session.kind() === "sso") session.signIn(user.access_token, "sso"); // a renewed token
  });
  manager.events.addAccessTokenExpired(() => {
    if (session.kind() === "sso") session.signOut();
  });
  return manager;
}

/** Go to the provider's sign-in page; back at /auth/callback, then at ``next``. */
export async function startSignOn(options: SignOnOptions, next: string): Promise<void> {
  await signOnManager(options).signinRedirect({ state: { next } });
}

/** Finish at /auth/callback: the code is exchanged (with the PKCE verifier) for tokens; where to go next. */
export async function finishSignOn(options: SignOnOptions): Promise<string> {
  const user = await signOnManager(options).signinRedirectCallback();
  session.signIn(user.access_token, "sso");
  const state = user.state as { next?: unknown } | undefined;
  const next = typeof state?.next === "string" ? state.next : "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

/** After a reload: let a signed-on tab renew its token again. */
export async function resumeSignOn(options: SignOnOptions): Promise<void> {
  const user = await signOnManager(options).getUser(); // loads the user: schedules the renewal
  if (!user || user.expired) session.signOut();
}

/** Sign out here and, for single sign-on, at the provider too (it comes back to /sign-in). True when the
 * page is being sent to the provider. */
export async function signOutEverywhere(options: SignOnOptions | null | undefined): Promise<boolean> {
  const wasSignOn = session.kind() === "sso";
  session.signOut();
  if (!wasSignOn || !options) return false;
  const current = signOnManager(options);
  const user = await current.getUser();
  await current.removeUser();
  try {
    await current.signoutRedirect({ id_token_hint: user?.id_token });
    return true;
  } catch {
    return false; // the provider has no end-session endpoint: signed out here only
  }
}
