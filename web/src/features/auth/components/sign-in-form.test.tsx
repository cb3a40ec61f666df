// The sign-in page offers single sign-on only when the API says it is configured; tokens always.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { server } from "@/test/server";
import { SignInForm } from "./sign-in-form";

function renderForm() {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={queryClient}>
      <SignInForm onSignedIn={() => undefined} />
    </QueryClientProvider>,
  );
}

describe("the sign-in page", () => {
  it("offers single sign-on when it is configured, and tokens beside it", async () => {
    server.use(
      http.get("*/api/v1/auth/options", () =>
        HttpResponse.json({ oidc: { issuer: "https://kc.example.com/realms/orchestra", client_id: "orchestra-web", scope: "openid" } }),
      ),
    );
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
});
