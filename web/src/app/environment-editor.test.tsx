// The environment screen as the app routes it: secrets are write-only (only changes are sent, values are
// dropped once saved), fields are checked before sending, and the API's problems land next to their field.
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { session } from "@/shared/auth/session";
import { PROJECT_ID } from "@/test/fixtures";
import { server } from "@/test/server";
import { renderAppAt } from "./render-app";

const ENVIRONMENT = {
  id: "66666666-6666-4666-8666-666666666666",
  project_id: PROJECT_ID,
  name: "staging",
  base_url: "https://shop.example.com",
  variables: { user: "demo" },
  secret_names: ["api_key", "password"],
  idempotency_keys: true,
  max_active_runs: null,
  max_requests_per_s: 2,
  allowed_hosts: ["api.example.com"],
  allow_private_network: false,
  created_at: "2026-01-01T10:00:00Z",
  updated_at: "2026-01-01T10:00:00Z",
};

function serve(patches: Record<string, unknown>[], role = "editor") {
  server.use(
    http.get("*/api/v1/me", () =>
      HttpResponse.json({ name: "erin", kind: "oidc", role, platform_admin: false, project_id: null, manages_tokens: true }),
    ),
    http.get("*/api/v1/projects/shop/environments/staging", () => HttpResponse.json(ENVIRONMENT)),
    http.get("*/api/v1/projects/shop/environments/staging/openapi", () =>
      HttpResponse.json(
        { type: "about:blank", title: "Not found", status: 404, detail: "no OpenAPI description was imported" },
        { status: 404, headers: { "content-type": "application/problem+json" } },
      ),
    ),
    http.get("*/api/v1/projects/shop/environments/staging/ledger", () =>
      HttpResponse.json({ items: [], total: 0, limit: 50, offset: 0 }),
    ),
    http.patch("*/api/v1/projects/shop/environments/staging", async ({ request }) => {
      const body = (await request.json()) as Record<string, unknown>;
      patches.push(body);
      return HttpResponse.json({ ...ENVIRONMENT, secret_names: ["api_key", "token"], updated_at: "2026-01-01T11:00:00Z" });
    }),
  );
}

/** Replace a field's text (pasted: typing key by key is slow on a busy machine). */
async function fill(field: HTMLElement, text: string) {
  await userEvent.clear(field);
  await userEvent.click(field);
  await userEvent.paste(text);
}

function renderAt(url: string) {
  return renderAppAt(url).queryClient;
}

describe("editing an environment", { timeout: 20_000 }, () => {
  beforeEach(() => session.signIn("a-token"));

  it("sends only the secrets that change, and drops the typed values once saved", async () => {
    const patches: Record<string, unknown>[] = [];
    serve(patches);
    const queryClient = renderAt("/environments/shop/staging");
    const replace = await screen.findByLabelText("New value for secret api_key");
    await fill(replace, "new-key-value");
    await userEvent.click(screen.getAllByRole("checkbox", { name: "Remove" })[1]!); // password
    await userEvent.click(screen.getByRole("button", { name: "Add a secret" }));
    await fill(screen.getByLabelText("Name of new secret 3"), "token");
    await fill(screen.getByLabelText("Value of new secret 3"), "t0ken-value");
    await userEvent.click(screen.getByRole("button", { name: "Save" }));

    expect(await screen.findByText(/^Saved at/)).toBeInTheDocument();
    expect(patches).toHaveLength(1);
    expect(patches[0]).toMatchObject({
      secrets: { api_key: "new-key-value", password: null, token: "t0ken-value" },
      variables: { user: "demo" },
      allowed_hosts: ["api.example.com"],
      max_active_runs: null,
      max_requests_per_s: 2,
    });
    expect(screen.getByLabelText("New value for secret api_key")).toHaveValue("");
    expect(screen.getByLabelText("New value for secret token")).toHaveValue("");
    expect(document.body.innerHTML).not.toMatch(/new-key-value|t0ken-value/);
    expect(JSON.stringify(queryClient.getMutationCache().getAll().map((m) => m.state))).not.toMatch(/new-key-value/);
  });

  it("checks every field before sending", async () => {
    const patches: Record<string, unknown>[] = [];
    serve(patches);
    renderAt("/environments/shop/staging");
    const baseUrl = await screen.findByLabelText("Base URL");
    await fill(baseUrl, "https://user:pw@shop.example.com");
    await fill(screen.getByLabelText("Variables"), '{"base_url": "x"}');
    await fill(screen.getByLabelText("Most active runs"), "0");
    await fill(screen.getByLabelText("Allowed hosts"), "api.example.com\nhttps://cdn.example.com/x");
    await userEvent.click(screen.getByRole("button", { name: "Add a secret" }));
    await fill(screen.getByLabelText("Name of new secret 3"), "api_key");
    await fill(screen.getByLabelText("Value of new secret 3"), "v");
    await userEvent.click(screen.getByRole("button", { name: "Save" }));

    expect(await screen.findByText("No credentials in the URL: keep them in secrets.")).toBeInTheDocument();
    expect(screen.getByText("'base_url' is reserved: it is the environment's base URL.")).toBeInTheDocument();
    expect(screen.getByText(/A whole number from 1 to 100,000/)).toBeInTheDocument();
    expect(screen.getByText(/'https:\/\/cdn.example.com\/x': a host name only/)).toBeInTheDocument();
    expect(screen.getByText("Two secrets have the same name.")).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("Some fields need a change");
    expect(patches).toEqual([]);
  });

  it("shows the API's problems next to the fields they name", async () => {
    serve([]);
    server.use(
      http.patch("*/api/v1/projects/shop/environments/staging", () =>
        HttpResponse.json(
          {
            type: "about:blank",
            title: "Invalid input",
            status: 422,
            detail: "allowed_hosts.1: Value error, 'bad..host' is not a valid host name",
            errors: [
              { location: "allowed_hosts.1", message: "Value error, 'bad..host' is not a valid host name" },
              { location: "max_requests_per_s", message: "Input should be less than or equal to 100000" },
            ],
          },
          { status: 422, headers: { "content-type": "application/problem+json" } },
        ),
      ),
    );
    renderAt("/environments/shop/staging");
    await fill(await screen.findByLabelText("Allowed hosts"), "api.example.com\nbad..host");
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    const hosts = screen.getByLabelText("Allowed hosts");
    const message = await screen.findByText("1: 'bad..host' is not a valid host name");
    expect(hosts).toHaveAttribute("aria-invalid", "true");
    expect(hosts.getAttribute("aria-describedby")).toContain(message.id);
    expect(screen.getByText("Input should be less than or equal to 100000")).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("The server refused some fields");
  });

  it("shows a viewer the environment without the controls to change it", async () => {
    serve([], "viewer");
    renderAt("/environments/shop/staging");
    expect(await screen.findByLabelText("Base URL")).toBeDisabled();
    expect(screen.queryByRole("button", { name: "Save" })).toBeNull();
    expect(screen.getByText(/changing it needs the editor role/)).toBeInTheDocument();
  });
});
