import { useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useEffect, useState } from "react";
import { finishSignOn, signInOptionsQuery } from "@/shared/auth/sign-on";
import { Card } from "@/shared/ui/card";

// The code in the URL can be exchanged once: one exchange per page load, however often React mounts this.
let exchange: { url: string; next: Promise<string> } | null = null;

/** Back from the provider at /auth/callback?code=…&state=…: the code becomes tokens, then the page the
 * visitor was going to (the code leaves the address bar: the next page replaces this one). */
export function SignOnCallback({ onSignedIn }: { onSignedIn: (next: string) => void }) {
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const url = globalThis.location.href;
    if (exchange?.url !== url) {
      exchange = {
        url,
        next: queryClient.fetchQuery(signInOptionsQuery()).then(({ oidc }) => {
          if (!oidc) throw new Error("single sign-on is not configured on this Orchestra");
          return finishSignOn(oidc);
        }),
      };
    }
    let current = true;
    exchange.next.then(
      (next) => current && onSignedIn(next),
      (failure: Error) => current && setError(failure.message),
    );
    return () => {
      current = false;
    };
  }, [queryClient, onSignedIn]);
  return (
    <Card className="mx-auto mt-16 w-full max-w-md">
      <h1 className="text-xl font-semibold">Signing in…</h1>
      {error ? (
        <>
          <p role="alert" className="mt-2 text-sm text-red-700 dark:text-red-300">
            Single sign-on did not complete: {error}
          </p>
          <Link to="/sign-in" className="mt-2 inline-block text-sm font-medium text-indigo-700 hover:underline dark:text-indigo-300">
            Back to the sign-in page
          </Link>
        </>
      ) : (
        <p className="mt-2 text-sm text-slate-600 dark:text-slate-300">Finishing single sign-on.</p>
      )}
    </Card>
  );
}
