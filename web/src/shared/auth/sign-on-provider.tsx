// react-oidc-context's AuthProvider around the application when the API has single sign-on configured
// (GET /api/v1/auth/options, asked once per page load); without it, no provider: tokens only. Components
// start signing on, finish it and sign out with useAuth(); `session` stays the one place the API client
// reads the token from, fed here from the provider's user.
import { useQueryClient } from "@tanstack/react-query";
import { useContext, useEffect, useState, type ReactNode } from "react";
import { AuthContext, AuthProvider, useAuth, type AuthProviderProps } from "react-oidc-context";
import { session } from "./session";
import { CALLBACK_PATH, safeNext, signInOptionsQuery, signOnManager, type SignOnOptions } from "./sign-on";

/** Whether single sign-on is offered here (an AuthProvider is mounted above): useAuth() may be called. */
export function useSignOnOffered(): boolean {
  return useContext(AuthContext) !== undefined;
}

/** The provider's user → `session`: a renewed token replaces the old one; a signed-on tab whose user is gone
 * (signed out, expired while the tab was closed, or expired now without being renewed: its tokens are then of
 * no more use and removed) is signed out. A tab signed in with a pasted token is left alone. */
function SessionFromSignOn() {
  const { isLoading, user, events, removeUser } = useAuth();
  useEffect(() => {
    if (isLoading || session.kind() !== "sso") return;
    if (user && !user.expired) {
      if (user.access_token !== session.accessToken()) session.signIn(user.access_token, "sso");
    } else {
      session.signOut();
    }
  }, [isLoading, user]);
  useEffect(() => events.addAccessTokenExpired(() => void removeUser()), [events, removeUser]);
  return null;
}

type Props = {
  /** Go to ``next``, a page of this application (already checked), replacing the callback in the history. */
  onSignedOn: (next: string) => Promise<void>;
  children: ReactNode;
};

function SignOnAuth({ options, onSignedOn, children }: Props & { options: SignOnOptions }) {
  const [manager] = useState(() => signOnManager(options));
  // Back at /auth/callback: the provider has exchanged the code (with the PKCE verifier) for tokens. The
  // token goes to `session`, and the page the visitor was going to replaces the callback's in the history.
  const signedOn: AuthProviderProps["onSigninCallback"] = async (user) => {
    if (!user) return;
    session.signIn(user.access_token, "sso");
    await onSignedOn(safeNext((user.state as { next?: unknown } | undefined)?.next));
  };
  return (
    // Only /auth/callback finishes a sign-in: a code and state in another page's address are not ours.
    <AuthProvider userManager={manager} onSigninCallback={signedOn} skipSigninCallback={globalThis.location.pathname !== CALLBACK_PATH}>
      <SessionFromSignOn />
      {children}
    </AuthProvider>
  );
}

/** The application, under an AuthProvider when single sign-on is configured; nothing until the API has said
 * (and tokens only when it could not be asked). */
export function SignOnProvider({ onSignedOn, children }: Props) {
  const queryClient = useQueryClient();
  const [options, setOptions] = useState<SignOnOptions | null | undefined>(undefined);
  useEffect(() => {
    // Fetched once: the provider (and the tokens it holds) must not come and go with the query cache.
    let current = true;
    queryClient.fetchQuery(signInOptionsQuery()).then(
      ({ oidc }) => current && setOptions(oidc ?? null),
      () => current && setOptions(null),
    );
    return () => {
      current = false;
    };
  }, [queryClient]);
  if (options === undefined) return null;
  if (options === null) return children;
  return (
    <SignOnAuth options={options} onSignedOn={onSignedOn}>
      {children}
    </SignOnAuth>
  );
}
