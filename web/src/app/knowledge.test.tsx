// The assistant screen: a project's documents (listed, added from a file or pasted text, searched) and the
// assistant's chat, with what the API refuses shown next to the field and a 503 saying the assistant is away.
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { session } from "@/shared/auth/session";
import { server } from "@/test/server";
import { renderAppAt } from "./render-app";

const XSS = "<img src=x onerror=alert(1)>";
const PROJECT = { id: "11111111-1111-4111-8111-111111111111", name: "shop", created_at: "2026-12-01T00:00:00Z" };

function makeDocument(title: string, chunks = 2) {
  return {
    id: "22222222-2222-4222-8222-222222222222",
    project_id: PROJECT.id,
    kind: "markdown",
    source: `${title}.md`,
    title,
    content_hash: "x",
    metadata: {},
    chunks,
    created_at: "2026-12-01T10:00:00Z",
    updated_at: "2026-12-01T10:00:00Z",
  };
}

function renderAt(url: string) {
  renderAppAt(url);
}

describe("the assistant screen", { timeout: 20_000 }, () => {
  beforeEach(() => {
    session.signIn("a-token");
    server.use(http.get("*/api/v1/projects", () => HttpResponse.json({ items: [PROJECT], total: 1, limit: 50, offset: 0 })));
  });

  it("lists, adds and searches documents", async () => {
    const stored = [makeDocument("runbook")];
    let posted: unknown = null;
    server.use(
      http.get("*/api/v1/projects/shop/documents", () => HttpResponse.json({ items: stored, total: stored.length, limit: 50, offset: 0 })),
      http.post("*/api/v1/projects/shop/documents", async ({ request }) => {
        posted = await request.json();
        stored.unshift(makeDocument("release notes", 3));
        return HttpResponse.json(stored[0], { status: 201 });
      }),
      http.get("*/api/v1/projects/shop/documents/search", ({ request }) =>
        HttpResponse.json({
          query: new URL(request.url).searchParams.get("q"),
          hits: [
            {
              chunk_id: 1,
              document_id: stored[0]!.id,
              kind: "markdown",
              source: "runbook.md",
              title: "runbook",
              heading: "Restarts",
              excerpt: `Restart the payment worker ${XSS}`,
              score: 0.0328,
              vector_rank: 1,
              text_rank: 1,
            },
          ],
        }),
      ),
    );
    renderAt("/assistant?project=shop");
    expect(await screen.findByRole("cell", { name: "runbook" })).toBeInTheDocument();

    const form = screen.getByRole("form", { name: "Add a document" });
    await userEvent.click(within(form).getByRole("button", { name: "Add the document" }));
    expect(within(form).getByText("Give the document a title.")).toBeInTheDocument(); // checked before sending
    expect(posted).toBeNull();

    const file = new File(["# Release 2\n\nPayments retry twice."], "release-notes.md", { type: "text/markdown" });
    await userEvent.upload(within(form).getByLabelText("Markdown file"), file);
    expect(within(form).getByLabelText("Title")).toHaveValue("release notes");
    await waitFor(() => expect(within(form).getByLabelText("Text (Markdown)")).toHaveValue("# Release 2\n\nPayments retry twice."));
    await userEvent.click(within(form).getByRole("button", { name: "Add the document" }));
    expect(await within(form).findByRole("status")).toHaveTextContent('"release notes" was added in 3 chunks.');
    expect(posted).toEqual({ title: "release notes", text: "# Release 2\n\nPayments retry twice.", source: "release-notes.md" });
    expect(await screen.findByRole("cell", { name: "release notes" })).toBeInTheDocument();

    await userEvent.type(screen.getByLabelText("Search for"), "restart");
    await userEvent.click(screen.getByRole("button", { name: "Search" }));
    const results = await screen.findByRole("list", { name: "Search results" });
    expect(within(results).getByText(`Restart the payment worker ${XSS}`)).toBeInTheDocument(); // text, not HTML
    expect(hasNoImage()).toBe(true);
  });

  it("shows the API's refusal next to the field", async () => {
    server.use(
      http.get("*/api/v1/projects/shop/documents", () => HttpResponse.json({ items: [], total: 0, limit: 50, offset: 0 })),
      http.post("*/api/v1/projects/shop/documents", () =>
        HttpResponse.json(
          { title: "Unprocessable", status: 422, detail: "invalid request", errors: [{ location: "text", message: "too long" }] },
          { status: 422 },
        ),
      ),
    );
    renderAt("/assistant?project=shop");
    expect(await screen.findByText(/no document yet/)).toBeInTheDocument();
    const form = screen.getByRole("form", { name: "Add a document" });
    await userEvent.type(within(form).getByLabelText("Title"), "notes");
    await userEvent.type(within(form).getByLabelText("Text (Markdown)"), "some text");
    await userEvent.click(within(form).getByRole("button", { name: "Add the document" }));
    expect(await within(form).findByText("too long")).toBeInTheDocument();
    expect(within(form).getByLabelText("Text (Markdown)")).toHaveValue("some text"); // nothing lost
  });

  it("chats with the assistant, sending the conversation so far", async () => {
    const sent: unknown[] = [];
    server.use(
      http.get("*/api/v1/projects/shop/documents", () => HttpResponse.json({ items: [], total: 0, limit: 50, offset: 0 })),
      http.post("*/api/v1/projects/shop/assistant/chat", async ({ request }) => {
        const body = (await request.json()) as { messages: unknown[] };
        sent.push(body.messages);
        return HttpResponse.json({
          reply: sent.length === 1 ? `Payments retry twice [D1]. ${XSS}` : "Yes, since release 2.",
          citations: [{ id: "D1", title: "release notes", excerpt: "Payments retry twice." }],
          tool_calls: [{ name: "search_documents", arguments: { query: "retry" } }],
          model: null,
        });
      }),
    );
    renderAt("/assistant?project=shop");
    await userEvent.type(await screen.findByLabelText("Your question"), "How often do payments retry?");
    await userEvent.click(screen.getByRole("button", { name: "Ask" }));
    expect(await screen.findByText(`Payments retry twice [D1]. ${XSS}`)).toBeInTheDocument();
    expect(hasNoImage()).toBe(true);
    expect(screen.getByText(/tools used: search_documents/)).toBeInTheDocument();
    expect(screen.getByLabelText("Your question")).toHaveValue("");

    await userEvent.type(screen.getByLabelText("Your question"), "Always?");
    await userEvent.click(screen.getByRole("button", { name: "Ask" }));
    expect(await screen.findByText("Yes, since release 2.")).toBeInTheDocument();
    expect(sent[1]).toEqual([
      { role: "user", content: "How often do payments retry?" },
      { role: "assistant", content: `Payments retry twice [D1]. ${XSS}` },
      { role: "user", content: "Always?" },
    ]);
  });

  it("says when the assistant is away, keeping the question", async () => {
    server.use(
      http.get("*/api/v1/projects/shop/documents", () => HttpResponse.json({ items: [], total: 0, limit: 50, offset: 0 })),
      http.post("*/api/v1/projects/shop/assistant/chat", () =>
        HttpResponse.json({ title: "Service Unavailable", status: 503, detail: "the ai-service did not answer" }, { status: 503 }),
      ),
    );
    renderAt("/assistant?project=shop");
    await userEvent.type(await screen.findByLabelText("Your question"), "Anyone there?");
    await userEvent.click(screen.getByRole("button", { name: "Ask" }));
    expect(await screen.findByText("The assistant is not available: the ai-service did not answer")).toBeInTheDocument();
    expect(screen.getByLabelText("Your question")).toHaveValue("Anyone there?");
  });
});

function hasNoImage(): boolean {
  return globalThis.document.querySelector("img") === null;
}
