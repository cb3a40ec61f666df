import { Link } from "@tanstack/react-router";
import { hasAuthParams, useAuth } from "react-oidc-context";
import { useSignOnOffered } from "@/shared/auth/sign-on-provider";
import { Card } from "@/shared/ui/card";

function Failed({ reason }: { reason: string }) {
  return (
    <>
      <p role="alert" className="mt-2 text-sm text-red-700 dark:text-red-300">
        Single sign-on did not complete: {reason}
      </p>
      <Link to="/sign-in" className="mt-2 inline-block text-sm font-medium text-indigo-700 hover:underline dark:text-indigo-300">
        Back to the sign-in page
      </Link>
    </>
  );
}

/** The provider's answer being exchanged (by the AuthProvider, once per page load); on success it goes on
 * to the page the visitor was going to, so what stays here is progress or why it failed. */
function Finishing() {
  const auth = useAuth();
  const reason = auth.error
    ? auth.error.message
    : !auth.isLoading && !hasAuthParams()
      ? "there is no answer from the sign-in service here"
      : null;
  return reason ? <Failed reason={reason} /> : <p className="mt-2 text-sm text-slate-600 dark:text-slate-300">Finishing single sign-on.</p>;
}

/** Back from the provider at /auth/callback?code=…&state=…: the code becomes tokens, then the page the
 * visitor was going to replaces this one (the code leaves the address bar and the history). */
export function SignOnCallback() {
  const offered = useSignOnOffered();
  return (
    <Card className="mx-auto mt-16 w-full max-w-md">
      <h1 className="text-xl font-semibold">Signing in…</h1>
      {offered ? <Finishing /> : <Failed reason="single sign-on is not configured on this Orchestra" />}
    </Card>
  );
}
