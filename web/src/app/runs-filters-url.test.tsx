// The runs screen as the app routes it: filters and page live in the URL, and the API is asked for them.
import { fireEvent, screen } from "@testing-library/react";
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

  it("sort by a column header, in the URL and on the server, and back to the first page", async () => {
    const asked: URL[] = [];
    serveRuns(asked);
    const router = renderAt("/runs?page=2");
    expect(await screen.findByText("a passed run")).toBeInTheDocument();
    expect(screen.getByRole("columnheader", { name: /Created/ })).toHaveAttribute("aria-sort", "descending");
    expect(screen.getByRole("columnheader", { name: /Test/ })).toHaveAttribute("aria-sort", "none");
    expect(screen.getByRole("columnheader", { name: "Project" })).not.toHaveAttribute("aria-sort");
    expect(asked.at(-1)!.searchParams.has("sort")).toBe(false); // newest first: the API's default

    await userEvent.click(screen.getByRole("button", { name: /Test/ }));
    await screen.findByText("Runs by test name, ascending");
    expect(router.state.location.search).toEqual({ page: 1, sort: "name" });
    expect(screen.getByRole("columnheader", { name: /Test/ })).toHaveAttribute("aria-sort", "ascending");
    expect(screen.getByRole("columnheader", { name: /Created/ })).toHaveAttribute("aria-sort", "none");
    expect(asked.at(-1)!.searchParams.get("sort")).toBe("name");
    expect(asked.at(-1)!.searchParams.get("offset")).toBe("0");

    await userEvent.click(screen.getByRole("button", { name: /Test/ }));
    await screen.findByText("Runs by test name, descending");
    expect(router.state.location.search).toEqual({ page: 1, sort: "-name" });

    await userEvent.click(screen.getByRole("button", { name: /Duration/ })); // longest first
    await screen.findByText("Runs by duration, descending");
    expect(asked.at(-1)!.searchParams.get("sort")).toBe("-duration");

    await userEvent.click(screen.getByRole("button", { name: /Created/ })); // newest first: the default
    await screen.findByText("Runs, newest first");
    expect(router.state.location.search).toEqual({ page: 1 });
    await userEvent.click(screen.getByRole("button", { name: /Created/ }));
    await screen.findByText("Runs, oldest first");
    expect(router.state.location.search).toEqual({ page: 1, sort: "created_at" });
    expect(asked.at(-1)!.searchParams.get("sort")).toBe("created_at");
  });

  it("put suite, tag, text and time range in the URL and ask the API for them", async () => {
    const asked: URL[] = [];
    serveRuns(asked);
    const router = renderAt("/runs?page=3");
    expect(await screen.findByText("a passed run")).toBeInTheDocument();

    await userEvent.type(screen.getByLabelText("Name contains"), "  100%_x {Enter}");
    await vi.waitFor(() => expect(router.state.location.search).toEqual({ page: 1, q: "100%_x" }));
    await userEvent.type(screen.getByLabelText("Tag"), "smoke");
    expect(router.state.location.search).toEqual({ page: 1, q: "100%_x" }); // not on every keystroke
    await userEvent.type(screen.getByLabelText("Suite"), "nightly"); // leaving the tag field applies it
    await vi.waitFor(() => expect(router.state.location.search).toEqual({ page: 1, q: "100%_x", tag: "smoke" }));
    await userEvent.tab();
    fireEvent.change(screen.getByLabelText("Created after"), { target: { value: "2026-12-01T09:30" } });
    // The before field cannot be earlier (its min follows the after field once the page has the new URL).
    await vi.waitFor(() => expect(screen.getByLabelText("Created before")).toHaveAttribute("min", "2026-12-01T09:30"));
    fireEvent.change(screen.getByLabelText("Created before"), { target: { value: "2026-12-02T18:00" } });
    const wanted = {
      page: 1,
      q: "100%_x",
      tag: "smoke",
      suite: "nightly",
      after: "2026-12-01T09:30",
      before: "2026-12-02T18:00",
    };
    await vi.waitFor(() => expect(router.state.location.search).toEqual(wanted));
    await vi.waitFor(() =>
      expect(Object.fromEntries(asked.at(-1)!.searchParams)).toEqual({
        limit: "25",
        offset: "0",
        q: "100%_x",
        tag: "smoke",
        suite: "nightly",
        created_after: new Date("2026-12-01T09:30").toISOString(),
        created_before: new Date("2026-12-02T18:00").toISOString(),
      }),
    );

    await userEvent.clear(screen.getByLabelText("Name contains"));
    await userEvent.type(screen.getByLabelText("Name contains"), "{Enter}");
    await vi.waitFor(() => expect(router.state.location.search).toEqual({ ...wanted, q: undefined }));
  });

  it("read sort, text, tag, suite and time range back from a shared link", async () => {
    const asked: URL[] = [];
    serveRuns(asked);
    const router = renderAt(
      "/runs?sort=-status&q=login&tag=smoke&suite=nightly&after=2026-12-01T09:30&before=2026-12-02T18:00&page=2",
    );
    expect(await screen.findByText("a passed run")).toBeInTheDocument();
    expect(screen.getByLabelText("Name contains")).toHaveValue("login");
    expect(screen.getByLabelText("Tag")).toHaveValue("smoke");
    expect(screen.getByLabelText("Suite")).toHaveValue("nightly");
    expect(screen.getByLabelText("Created after")).toHaveValue("2026-12-01T09:30");
    expect(screen.getByLabelText("Created before")).toHaveValue("2026-12-02T18:00");
    expect(screen.getByRole("columnheader", { name: /Status/ })).toHaveAttribute("aria-sort", "descending");
    expect(router.state.location.search).toEqual({
      page: 2,
      sort: "-status",
      q: "login",
      tag: "smoke",
      suite: "nightly",
      after: "2026-12-01T09:30",
      before: "2026-12-02T18:00",
    });
    const last = asked.at(-1)!.searchParams;
    expect([last.get("sort"), last.get("q"), last.get("offset")]).toEqual(["-status", "login", "25"]);
  });

  it("ignore a sort, a time or a text the API would refuse", async () => {
    const asked: URL[] = [];
    serveRuns(asked);
    const router = renderAt(`/runs?sort=priority&after=yesterday&before=2026-13-45T99:99&q=${"x".repeat(201)}&tag=%20`);
    expect(await screen.findByText("a passed run")).toBeInTheDocument();
    expect(router.state.location.search).toEqual({ page: 1 });
    expect(Object.fromEntries(asked.at(-1)!.searchParams)).toEqual({ limit: "25", offset: "0" });
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
