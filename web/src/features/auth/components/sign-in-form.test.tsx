// The sign-in page offers single sign-on only when the API says it is configured (react-oidc-context's
// provider mounted from its options); tokens always. Its button sends the browser to the provider.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { SignOnProvider } from "@/shared/auth/sign-on-provider";
import { CLIENT_ID, ISSUER, recordNavigation, serveProvider } from "@/test/oidc";
import { server } from "@/test/server";
import { SignInForm } from "./sign-in-form";

function renderForm(next = "/") {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={queryClient}>
      <SignOnProvider onSignedOn={async () => undefined}>
        <SignInForm next={next} onSignedIn={() => undefined} />
      </SignOnProvider>
    </QueryClientProvider>,
  );
}

describe("the sign-in page", () => {
  afterEach(() => vi.restoreAllMocks());

  it("offers single sign-on when it is configured, and tokens beside it", async () => {
    serveProvider();
    renderForm();
    expect(await screen.findByRole("button", { name: "Sign in with single sign-on" })).toBeInTheDocument();
    expect(screen.getByText(/Or paste the local admin token/)).toBeInTheDocument();
    expect(screen.getByLabelText("Token")).toBeInTheDocument();
  });

  it("offers tokens only when single sign-on is not configured", async () => {
    let asked = false;
    server.use(
      http.get("*/api/v1/auth/options", () => {
        asked = true;
        return HttpResponse.json({ oidc: null });
      }),
    );
    renderForm();
    await waitFor(() => expect(asked).toBe(true));
    expect(await screen.findByText(/Paste the local admin token/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Sign in with single sign-on" })).not.toBeInTheDocument();
  });

  it("offers tokens when the API could not say", async () => {
    server.use(http.get("*/api/v1/auth/options", () => HttpResponse.json({ title: "Bad Gateway", status: 502 }, { status: 502 })));
    renderForm();
    expect(await screen.findByText(/Paste the local admin token/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Sign in with single sign-on" })).not.toBeInTheDocument();
  });

  it("sends the browser to the provider: code + PKCE (S256), back at /auth/callback, the target page kept", async () => {
    serveProvider();
    const navigation = recordNavigation();
    renderForm("/runs?page=2");
    await userEvent.click(await screen.findByRole("button", { name: "Sign in with single sign-on" }));
    await waitFor(() => expect(navigation.to()).toHaveLength(1));
    expect(screen.getByRole("button", { name: "Going to the sign-in page…" })).toBeDisabled();

    const authorize = navigation.to()[0]!;
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${ISSUER}/protocol/openid-connect/auth`);
    const asked = authorize.searchParams;
    expect(asked.get("client_id")).toBe(CLIENT_ID);
    expect(asked.get("response_type")).toBe("code");
    expect(asked.get("redirect_uri")).toBe(`${window.location.origin}/auth/callback`);
    expect(asked.get("code_challenge_method")).toBe("S256");
    expect(asked.get("code_challenge")).toMatch(/^[\w-]{43}$/);
    const kept = JSON.parse(sessionStorage.getItem(`oidc.${asked.get("state")}`)!);
    expect(kept.data).toEqual({ next: "/runs?page=2" }); // in this tab's storage, not in the URL
    expect(kept.code_verifier).toBeTruthy();
    expect(Object.keys(localStorage).filter((key) => key.startsWith("oidc."))).toEqual([]);
    expect(authorize.href).not.toContain("runs");
  });

  it("says so when the provider does not answer, and keeps the page", async () => {
    serveProvider();
    server.use(http.get(`${ISSUER}/.well-known/openid-configuration`, () => HttpResponse.error()));
    const navigation = recordNavigation();
    renderForm();
    await userEvent.click(await screen.findByRole("button", { name: "Sign in with single sign-on" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(/The sign-in service did not answer .*Try again, or use a token/);
    expect(screen.getByRole("button", { name: "Sign in with single sign-on" })).toBeEnabled();
    expect(navigation.to()).toEqual([]);
  });
});
