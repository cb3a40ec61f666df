// A created token is on the screen once, and nowhere else: not in the query or mutation caches, not in the
// browser's storage; "Done" drops it.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { server } from "@/test/server";
import { TokensPage } from "./tokens-page";

const TOKEN = "orc_11111111111141118111111111111111_Zm9vYmFyYmF6cXV4c2VjcmV0dmFsdWU";
const listed = {
  id: "55555555-5555-4555-8555-555555555555",
  name: "gitlab-ci",
  prefix: "Zm9vYmFy",
  role: "viewer",
  project_id: null,
  kind: "api",
  created_by: "token:local admin",
  created_at: "2026-01-01T10:00:00Z",
  expires_at: null,
  revoked_at: null,
  last_used_at: null,
};

function serve(posted: unknown[]) {
  let created = false;
  server.use(
    http.get("*/api/v1/me", () =>
      HttpResponse.json({
        name: "token:local admin",
        kind: "local-admin",
        role: "admin",
        platform_admin: true,
        project_id: null,
        manages_tokens: true,
      }),
    ),
    http.get("*/api/v1/projects", () => HttpResponse.json({ items: [], total: 0, limit: 500, offset: 0 })),
    http.get("*/api/v1/tokens", () =>
      HttpResponse.json({ items: created ? [listed] : [], total: created ? 1 : 0, limit: 500, offset: 0 }),
    ),
    http.post("*/api/v1/tokens", async ({ request }) => {
      posted.push(await request.json());
      created = true;
      return HttpResponse.json({ ...listed, token: TOKEN }, { status: 201 });
    }),
  );
}

function renderPage() {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const view = render(
    <QueryClientProvider client={queryClient}>
      <TokensPage />
    </QueryClientProvider>,
  );
  return { queryClient, ...view };
}

describe("creating an API token", () => {
  it("shows the token once, keeps it in no cache or storage, and forgets it on Done", async () => {
    const posted: unknown[] = [];
    serve(posted);
    const { queryClient, container } = renderPage();
    await userEvent.type(await screen.findByLabelText("Name"), "gitlab-ci");
    await userEvent.click(screen.getByRole("button", { name: "Create token" }));

    expect(await screen.findByLabelText("The new token")).toHaveValue(TOKEN);
    expect(posted).toEqual([{ name: "gitlab-ci", role: "viewer", project: null, expires_at: null }]);
    expect(await screen.findByText("gitlab-ci", { selector: "th" })).toBeInTheDocument();
    const cached = JSON.stringify([
      queryClient.getQueryCache().getAll().map((query) => query.state.data),
      queryClient.getMutationCache().getAll().map((mutation) => mutation.state),
    ]);
    expect(cached).not.toContain(TOKEN);
    expect(JSON.stringify({ ...sessionStorage, ...localStorage })).not.toContain(TOKEN);

    await userEvent.click(screen.getByRole("button", { name: "Done" }));
    expect(screen.queryByLabelText("The new token")).toBeNull();
    expect(container.innerHTML).not.toContain(TOKEN);
  });

  it("checks the form before sending anything", async () => {
    const posted: unknown[] = [];
    serve(posted);
    renderPage();
    await userEvent.click(await screen.findByRole("button", { name: "Create token" }));
    expect(await screen.findByText("Give a token name.")).toBeInTheDocument();
    expect(screen.getByLabelText("Name")).toHaveAttribute("aria-invalid", "true");
    await userEvent.type(screen.getByLabelText("Name"), "bad/name");
    await userEvent.click(screen.getByRole("button", { name: "Create token" }));
    expect(await screen.findByText(/starting with a letter or digit/)).toBeInTheDocument();
    expect(posted).toEqual([]);
  });

  it("places the API's refusal next to the field it names", async () => {
    serve([]);
    server.use(
      http.post("*/api/v1/tokens", () =>
        HttpResponse.json(
          {
            type: "about:blank",
            title: "Invalid input",
            status: 422,
            detail: "expires_at: Input should have timezone info",
            errors: [{ location: "expires_at", message: "Input should have timezone info" }],
          },
          { status: 422, headers: { "content-type": "application/problem+json" } },
        ),
      ),
    );
    renderPage();
    await userEvent.type(await screen.findByLabelText("Name"), "ci");
    await userEvent.click(screen.getByRole("button", { name: "Create token" }));
    const expires = screen.getByLabelText("Expires");
    expect(await screen.findByText("Input should have timezone info")).toBeInTheDocument();
    expect(expires).toHaveAttribute("aria-invalid", "true");
    expect(expires.getAttribute("aria-describedby")).toContain(screen.getByText("Input should have timezone info").id);
  });
});
