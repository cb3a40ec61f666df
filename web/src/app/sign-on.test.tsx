// Single sign-on through the application, with react-oidc-context's provider mounted from the API's options:
// back at the callback the code becomes tokens and the visitor goes on to a page of this application (never
// elsewhere); the token is renewed, dropped when it expires, and signing out ends the provider's session.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { SignInForm } from "@/features/auth/components/sign-in-form";
import { session } from "@/shared/auth/session";
import { SignOnProvider } from "@/shared/auth/sign-on-provider";
import { PROJECT_ID } from "@/test/fixtures";
import { arriveAt, ISSUER, recordNavigation, serveProvider, type Provider } from "@/test/oidc";
import { server } from "@/test/server";
import { renderAppAt } from "./render-app";

/** The bearer tokens the API was called with. */
function serveRuns(): string[] {
  const bearers: string[] = [];
  server.use(
    http.get("*/api/v1/projects", () =>
      HttpResponse.json({ items: [{ id: PROJECT_ID, name: "examples" }], total: 1, limit: 500, offset: 0 }),
    ),
    http.get("*/api/v1/runs", ({ request }) => {
      bearers.push(request.headers.get("Authorization") ?? "");
      return HttpResponse.json({ items: [], total: 0, limit: 25, offset: 0 });
    }),
  );
  return bearers;
}

/** Signing on started from the sign-in page with ``next`` (whatever it is), and the provider's answer: the
 * callback's URL with a code granted for the challenge the browser sent (or for ``challenge``). */
async function answerFromProvider(provider: Provider, next: string, challenge?: string): Promise<string> {
  const navigation = recordNavigation();
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const { unmount } = render(
    <QueryClientProvider client={queryClient}>
      <SignOnProvider onSignedOn={async () => undefined}>
        <SignInForm next={next} onSignedIn={() => undefined} />
      </SignOnProvider>
    </QueryClientProvider>,
  );
  await userEvent.click(await screen.findByRole("button", { name: "Sign in with single sign-on" }));
  await waitFor(() => expect(navigation.to()).toHaveLength(1));
  const authorize = navigation.to()[0]!;
  unmount();
  vi.restoreAllMocks();
  provider.grant("a-code", challenge ?? authorize.searchParams.get("code_challenge")!);
  const answer = new URLSearchParams({ code: "a-code", state: authorize.searchParams.get("state")!, iss: ISSUER });
  return `/auth/callback?${answer}`;
}

/** Back at the callback with ``answer``: the application as the browser loads it there. */
function arriveBack(answer: string) {
  arriveAt(answer);
  return renderAppAt(answer);
}

const oidcKeys = () => Object.keys(sessionStorage).filter((key) => key.startsWith("oidc."));

describe("single sign-on", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    arriveAt("/");
  });

  it("finishes at the callback: the code and its verifier become tokens, then the page the visitor was going to", async () => {
    const provider = serveProvider();
    const bearers = serveRuns();
    const { router } = arriveBack(await answerFromProvider(provider, "/runs?page=2&status=FAILED"));

    expect(await screen.findByRole("heading", { name: "Runs" })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe("/runs");
    expect(router.state.location.search).toEqual({ page: 2, status: "FAILED" });
    expect(router.history.length).toBe(1); // the callback (and its code) replaced, not left behind
    expect(provider.issued).toEqual(["access-1"]);
    expect([session.accessToken(), session.kind()]).toEqual(["access-1", "sso"]);
    await waitFor(() => expect(bearers).toContain("Bearer access-1")); // what the API client sends
    expect(oidcKeys()).toEqual([expect.stringMatching(/^oidc\.user:/)]); // the sign-in's state used up
  });

  it.each(["//evil.example/runs", "https://evil.example/", "/\\evil.example", "/\t/evil.example", "runs"])(
    "goes to the overview, not to %j",
    async (next) => {
      const provider = serveProvider();
      serveRuns();
      const { router } = arriveBack(await answerFromProvider(provider, next));
      expect(await screen.findByRole("heading", { name: "Overview" })).toBeInTheDocument();
      expect(router.state.location.href).toBe("/");
      expect(session.kind()).toBe("sso");
    },
  );

  it("is not even started towards a next that leaves the application", async () => {
    serveProvider();
    const navigation = recordNavigation();
    renderAppAt(`/sign-in?next=${encodeURIComponent("//evil.example/")}`);
    await userEvent.click(await screen.findByRole("button", { name: "Sign in with single sign-on" }));
    await waitFor(() => expect(navigation.to()).toHaveLength(1));
    const state = navigation.to()[0]!.searchParams.get("state");
    expect(JSON.parse(sessionStorage.getItem(`oidc.${state}`)!).data).toEqual({ next: "/" });
  });

  it.each(["https://evil.example/", "//evil.example/"])("signs in with a token and goes to the overview, not to %j", async (next) => {
    serveRuns();
    const { router } = renderAppAt(`/sign-in?next=${encodeURIComponent(next)}`);
    await userEvent.type(await screen.findByLabelText("Token"), "a-token{Enter}");
    expect(await screen.findByRole("heading", { name: "Overview" })).toBeInTheDocument();
    expect(router.state.location.href).toBe("/");
  });

  it("says why when the provider refuses the code, and signs nobody in", async () => {
    const provider = serveProvider();
    arriveBack(await answerFromProvider(provider, "/runs", "not-the-challenge-sent"));
    expect(await screen.findByRole("alert")).toHaveTextContent(/Single sign-on did not complete: .*invalid_grant/);
    expect(screen.getByRole("link", { name: "Back to the sign-in page" })).toBeInTheDocument();
    expect(session.accessToken()).toBeNull();
    expect(provider.issued).toEqual([]);
  });

  it("says so at the callback when it is not configured", async () => {
    arriveBack("/auth/callback?code=a-code&state=a-state");
    expect(await screen.findByRole("alert")).toHaveTextContent("single sign-on is not configured on this Orchestra");
    expect(session.accessToken()).toBeNull();
  });

  it("renews the access token before it expires: the API client sends the new one", async () => {
    const provider = serveProvider({ lifetimeS: 3 }); // renewed a minute before it expires: at once
    serveRuns();
    arriveBack(await answerFromProvider(provider, "/runs"));
    await screen.findByRole("heading", { name: "Runs" });
    await waitFor(() => expect(session.accessToken()).toBe("access-2"));
    expect(session.kind()).toBe("sso");
  });

  it("signs out when the token expires without being renewed, and forgets the user", async () => {
    const provider = serveProvider({ lifetimeS: 1, refreshes: false });
    serveRuns();
    arriveBack(await answerFromProvider(provider, "/runs"));
    await waitFor(() => expect(provider.issued).toEqual(["access-1"]));
    await waitFor(() => expect(session.accessToken()).toBeNull());
    await waitFor(() => expect(oidcKeys()).toEqual([]));
  });

  it("signs out a signed-on tab reloaded without its user", async () => {
    serveProvider();
    serveRuns();
    session.signIn("a-token-of-another-tab", "sso");
    renderAppAt("/runs");
    await waitFor(() => expect(session.accessToken()).toBeNull());
  });

  it("signing out ends the provider's session too, with the ID token as the hint, and keeps no token", async () => {
    const provider = serveProvider();
    serveRuns();
    arriveBack(await answerFromProvider(provider, "/runs"));
    await screen.findByRole("heading", { name: "Runs" });

    const navigation = recordNavigation();
    await userEvent.click(screen.getByRole("button", { name: "Sign out" }));
    await waitFor(() => expect(navigation.to()).toHaveLength(1));
    const logout = navigation.to()[0]!;
    expect(`${logout.origin}${logout.pathname}`).toBe(`${ISSUER}/protocol/openid-connect/logout`);
    expect(logout.searchParams.get("id_token_hint")).toBe(provider.idToken);
    expect(logout.searchParams.get("post_logout_redirect_uri")).toBe(`${window.location.origin}/sign-in`);
    expect(session.accessToken()).toBeNull();
    expect(Object.keys(sessionStorage)).toEqual([]); // no token, no user
  });

  it("a tab signed in with a token signs out here only", async () => {
    serveProvider();
    serveRuns();
    session.signIn("a-token");
    const navigation = recordNavigation();
    renderAppAt("/runs");
    await screen.findByRole("heading", { name: "Runs" });
    await userEvent.click(screen.getByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("heading", { name: "Sign in to Orchestra" })).toBeInTheDocument();
    expect(navigation.to()).toEqual([]);
    expect(session.accessToken()).toBeNull();
  });
});
