import { useState, type FormEvent } from "react";
import { useAuth } from "react-oidc-context";
import { checkToken } from "@/features/auth/api/check-token";
import { session } from "@/shared/auth/session";
import { useSignOnOffered } from "@/shared/auth/sign-on-provider";
import { Button } from "@/shared/ui/button";
import { Card } from "@/shared/ui/card";

const messages = {
  refused: "This token was not accepted. Check that it is the whole token and that it was not revoked.",
  unreachable: "Orchestra did not answer. Is it running?",
};

/** Single sign-on's button, when the API has it configured: off to the provider, back at ``next``. */
function SignOn({ next }: { next: string }) {
  const auth = useAuth();
  const busy = auth.activeNavigator === "signinRedirect";
  const error = !busy && auth.error?.source === "signinRedirect" ? auth.error.message : null;
  return (
    <div className="mt-4 flex flex-col gap-2 border-b border-slate-200 pb-4 dark:border-slate-700">
      <Button onClick={() => void auth.signinRedirect({ state: { next } })} disabled={busy}>
        {busy ? "Going to the sign-in page…" : "Sign in with single sign-on"}
      </Button>
      {error ? (
        <p role="alert" className="text-sm text-red-700 dark:text-red-300">
          The sign-in service did not answer ({error}). Try again, or use a token.
        </p>
      ) : null}
    </div>
  );
}

/** Sign in with single sign-on (OIDC, when configured), the local admin token (`.orchestra/admin-token`)
 * or an API token. */
export function SignInForm({ onSignedIn, next = "/" }: { onSignedIn: () => void; next?: string }) {
  const sso = useSignOnOffered();
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const value = token.trim();
    if (!value) {
      setError("Paste a token first.");
      return;
    }
    setBusy(true);
    const result = await checkToken(value);
    setBusy(false);
    if (result !== "accepted") {
      setError(messages[result]);
      return;
    }
    session.signIn(value);
    setToken("");
    onSignedIn();
  }

  return (
    <Card className="mx-auto mt-16 w-full max-w-md">
      <h1 className="text-xl font-semibold">Sign in to Orchestra</h1>
      {sso ? <SignOn next={next} /> : null}
      <p className="mt-4 text-sm text-slate-600 dark:text-slate-300">
        {sso ? "Or paste" : "Paste"} the local admin token (kept in <code className="font-mono">.orchestra/admin-token</code> by{" "}
        <code className="font-mono">orchestra up</code>) or an API token. It is kept in this tab only.
      </p>
      <form className="mt-4 flex flex-col gap-3" onSubmit={submit} noValidate>
        <label className="flex flex-col gap-1 text-sm font-medium">
          Token
          <input
            type="password"
            name="token"
            autoComplete="off"
            spellCheck={false}
            value={token}
            onChange={(e) => setToken(e.target.value)}
            aria-invalid={error !== null}
            aria-describedby={error ? "sign-in-error" : undefined}
            className="rounded-md border border-slate-300 bg-white px-3 py-2 font-mono text-sm dark:border-slate-600 dark:bg-slate-800 focus-visible:outline-2 focus-visible:outline-indigo-500"
          />
        </label>
        {error ? (
          <p id="sign-in-error" role="alert" className="text-sm text-red-700 dark:text-red-300">
            {error}
          </p>
        ) : null}
        <Button type="submit" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </Button>
      </form>
    </Card>
  );
}
