// The runs screen as the app routes it: filters and page live in the URL, and the API is asked for them.
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { session } from "@/shared/auth/session";
import { makeRun, PROJECT_ID } from "@/test/fixtures";
import { server } from "@/test/server";
import { renderAppAt } from "./render-app";

function renderAt(url: string) {
  return renderAppAt(url).router;
}

function serveRuns(asked: URL[], total = 60) {
  server.use(
    http.get("*/api/v1/projects", () =>
      HttpResponse.json({ items: [{ id: PROJECT_ID, name: "examples" }], total: 1, limit: 500, offset: 0 }),
    ),
    http.get("*/api/v1/runs", ({ request }) => {
      const url = new URL(request.url);
      asked.push(url);
      const status = url.searchParams.get("status") ?? "PASSED";
      return HttpResponse.json({
        items: [makeRun({ name: `a ${status.toLowerCase()} run`, status: status as "PASSED" })],
        total,
        limit: 25,
        offset: Number(url.searchParams.get("offset")),
      });
    }),
  );
}

describe("the runs filters", () => {
  beforeEach(() => session.signIn("a-token"));

  it("put status, project and page in the URL and ask the API for exactly that", async () => {
    const asked: URL[] = [];
    serveRuns(asked);
    const router = renderAt("/runs");
    expect(await screen.findByText("a passed run")).toBeInTheDocument();

    await userEvent.selectOptions(screen.getByLabelText("Status"), "FAILED");
    expect(await screen.findByText("a failed run")).toBeInTheDocument();
    expect(router.state.location.search).toEqual({ page: 1, status: "FAILED" });

    await screen.findByRole("option", { name: "examples" });
    await userEvent.selectOptions(screen.getByLabelText("Project"), "examples");
    await userEvent.click(screen.getByRole("button", { name: "Next" }));
    await screen.findByText("26–50 of 60");
    expect(router.state.location.search).toEqual({ page: 2, status: "FAILED", project: "examples" });

    const last = asked.at(-1)!;
    expect(Object.fromEntries(last.searchParams)).toEqual({
      limit: "25",
      offset: "25",
      status: "FAILED",
      project: "examples",
    });
    expect(asked.every((url) => url.searchParams.get("limit") === "25")).toBe(true);
  });

  it("are read back from a shared link, and nonsense in it is ignored", async () => {
    const asked: URL[] = [];
    serveRuns(asked);
    const router = renderAt("/runs?status=QUEUED&project=examples&page=nope");
    expect(await screen.findByText("a queued run")).toBeInTheDocument();
    expect(screen.getByLabelText("Status")).toHaveValue("QUEUED");
    expect(router.state.location.search).toEqual({ page: 1, status: "QUEUED", project: "examples" });
  });

  it("ignore a status the API does not know", async () => {
    const asked: URL[] = [];
    serveRuns(asked);
    const router = renderAt("/runs?status=DROP%20TABLE");
    expect(await screen.findByText("a passed run")).toBeInTheDocument();
    expect(router.state.location.search).toEqual({ page: 1 });
    expect(asked.at(-1)!.searchParams.has("status")).toBe(false);
  });

  it("are behind the sign-in page when nobody is signed in", async () => {
    session.signOut();
    const router = renderAt("/runs?status=FAILED");
    expect(await screen.findByRole("heading", { name: "Sign in to Orchestra" })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe("/sign-in");
  });
});
