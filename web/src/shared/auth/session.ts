// Who the SPA calls the API as: a pasted token (the local admin token or an API token) or the access token
// of single sign-on (sign-on-provider.tsx keeps it fresh). Kept in sessionStorage only — gone when the tab closes,
// never put in a URL, never rendered; nothing else in the app reads the token.
import { useSyncExternalStore } from "react";

const KEY = "orchestra.token";
const HOW = "orchestra.signed-in-with";
const listeners = new Set<() => void>();

/** How the tab signed in: a pasted token, or single sign-on (OIDC). */
export type SignInKind = "token" | "sso";

function notify(): void {
  for (const listener of listeners) listener();
}

export const session = {
  accessToken(): string | null {
    return sessionStorage.getItem(KEY);
  },
  kind(): SignInKind | null {
    const kind = sessionStorage.getItem(HOW);
    return kind === "sso" ? "sso" : sessionStorage.getItem(KEY) === null ? null : "token";
  },
  signIn(token: string, kind: SignInKind = "token"): void {
    sessionStorage.setItem(KEY, token.trim());
    sessionStorage.setItem(HOW, kind);
    notify();
  },
  signOut(): void {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(HOW);
    notify();
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

/** Whether someone is signed in, re-rendering when that changes (sign-in, sign-out, a 401). */
export function useSignedIn(): boolean {
  return useSyncExternalStore(session.subscribe, () => session.accessToken() !== null);
}
