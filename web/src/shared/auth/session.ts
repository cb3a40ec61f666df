// Who the SPA calls the API as. Embedded mode: a pasted token (the local admin token or an API token),
// kept in sessionStorage only — gone when the tab closes, never put in a URL, never rendered.
// The seam for OIDC (a later step): a second credential source that hands out its access token through
// accessToken() and clears itself in signOut(); nothing else in the app reads the token.
import { useSyncExternalStore } from "react";

const KEY = "orchestra.token";
const listeners = new Set<() => void>();

function notify(): void {
  for (const listener of listeners) listener();
}

export const session = {
  accessToken(): string | null {
    return sessionStorage.getItem(KEY);
  },
  signIn(token: string): void {
    sessionStorage.setItem(KEY, token.trim());
    notify();
  },
  signOut(): void {
    sessionStorage.removeItem(KEY);
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
