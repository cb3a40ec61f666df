import { useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { useAuth } from "react-oidc-context";
import { session } from "@/shared/auth/session";
import { useSignOnOffered } from "@/shared/auth/sign-on-provider";
import { Button } from "@/shared/ui/button";

function SignOutButton({ onClick }: { onClick: () => Promise<void> }) {
  return (
    <Button variant="secondary" className="whitespace-nowrap" onClick={() => void onClick()}>
      Sign out
    </Button>
  );
}

/** Forget the token and what was read with it; the caller goes on to the sign-in page or the provider. */
function useSignOutHere(): () => void {
  const queryClient = useQueryClient();
  return () => {
    session.signOut();
    queryClient.clear(); // nothing read with the token stays in memory
  };
}

function TokenSignOut() {
  const navigate = useNavigate();
  const signOutHere = useSignOutHere();
  return (
    <SignOutButton
      onClick={async () => {
        signOutHere();
        await navigate({ to: "/sign-in" });
      }}
    />
  );
}

/** A tab signed on ends the provider's session too (with its ID token as the hint) and comes back to the
 * sign-in page from there; one signed in with a pasted token signs out here only. */
function SignOnSignOut() {
  const auth = useAuth();
  const navigate = useNavigate();
  const signOutHere = useSignOutHere();
  return (
    <SignOutButton
      onClick={async () => {
        const signedOn = session.kind() === "sso";
        const idToken = auth.user?.id_token;
        signOutHere();
        if (signedOn && auth.user) {
          // Resolves only when the page did not leave: the provider has no end-session endpoint, or it could
          // not be reached. The user (its tokens) is removed here either way.
          await auth.signoutRedirect({ id_token_hint: idToken });
          await auth.removeUser();
        }
        await navigate({ to: "/sign-in" });
      }}
    />
  );
}

/** The header's sign-out. */
export function SignOut() {
  return useSignOnOffered() ? <SignOnSignOut /> : <TokenSignOut />;
}
