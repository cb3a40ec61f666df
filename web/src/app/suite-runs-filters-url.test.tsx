// The suite-runs screen as the app routes it: filters, order and page live in the URL, and the API is asked
// for exactly them.
import { fireEvent, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { session } from "@/shared/auth/session";
import { makeSuiteRun, PROJECT_ID } from "@/test/fixtures";
import { server } from "@/test/server";
import { renderAppAt } from "./render-app";

function renderAt(url: string) {
  return renderAppAt(url).router;
}

function serveSuiteRuns(asked: URL[], total = 60) {
  server.use(
    http.get("*/api/v1/projects", () =>
      HttpResponse.json({ items: [{ id: PROJECT_ID, name: "examples" }], total: 1, limit: 500, offset: 0 }),
    ),
    http.get("*/api/v1/runs", () => HttpResponse.json({ items: [], total: 0, limit: 25, offset: 0 })),
    http.get("*/api/v1/suite-runs", ({ request }) => {
      const url = new URL(request.url);
      asked.push(url);
      const status = url.searchParams.get("status") ?? "PASSED";
      return HttpResponse.json({
        items: [makeSuiteRun({ name: `a ${status.toLowerCase()} suite run`, status: status as "PASSED" })],
        total,
        limit: 25,
        offset: Number(url.searchParams.get("offset")),
      });
    }),
  );
}

describe("the suite-runs filters", () => {
  beforeEach(() => session.signIn("a-token"));

  it("are reached from the main navigation, newest first", async () => {
    const asked: URL[] = [];
    serveSuiteRuns(asked);
    const router = renderAt("/runs");
    await userEvent.click(await screen.findByRole("link", { name: "Suite runs" }));
    expect(await screen.findByText("a passed suite run")).toBeInTheDocument();
    expect(router.state.location.pathname).toBe("/suite-runs");
    expect(screen.getByRole("heading", { name: "Suite runs" })).toBeInTheDocument();
    expect(screen.getByText("3 of 4 passed")).toBeInTheDocument();
    expect(screen.getByRole("columnheader", { name: /Created/ })).toHaveAttribute("aria-sort", "descending");
    expect(Object.fromEntries(asked.at(-1)!.searchParams)).toEqual({ limit: "25", offset: "0" });
  });

  it("put status, project, trigger and page in the URL and ask the API for exactly that", async () => {
    const asked: URL[] = [];
    serveSuiteRuns(asked);
    const router = renderAt("/suite-runs");
    expect(await screen.findByText("a passed suite run")).toBeInTheDocument();

    await userEvent.selectOptions(screen.getByLabelText("Status"), "FAILED");
    expect(await screen.findByText("a failed suite run")).toBeInTheDocument();
    await screen.findByRole("option", { name: "examples" });
    await userEvent.selectOptions(screen.getByLabelText("Project"), "examples");
    await userEvent.selectOptions(screen.getByLabelText("Trigger"), "ci");
    await userEvent.click(screen.getByRole("button", { name: "Next" }));
    await screen.findByText("26–50 of 60");
    expect(router.state.location.search).toEqual({ page: 2, status: "FAILED", project: "examples", trigger: "ci" });
    expect(Object.fromEntries(asked.at(-1)!.searchParams)).toEqual({
      limit: "25",
      offset: "25",
      status: "FAILED",
      project: "examples",
      trigger: "ci",
    });
  });

  it("put environment, suite, text and time range in the URL, and a change goes back to page 1", async () => {
    const asked: URL[] = [];
    serveSuiteRuns(asked);
    const router = renderAt("/suite-runs?page=3");
    expect(await screen.findByText("a passed suite run")).toBeInTheDocument();

    await userEvent.type(screen.getByLabelText("Name contains"), "  100%_x {Enter}");
    await vi.waitFor(() => expect(router.state.location.search).toEqual({ page: 1, q: "100%_x" }));
    await userEvent.type(screen.getByLabelText("Environment"), "staging");
    expect(router.state.location.search).toEqual({ page: 1, q: "100%_x" }); // not on every keystroke
    await userEvent.type(screen.getByLabelText("Suite"), "nightly"); // leaving a field applies it
    await userEvent.tab();
    fireEvent.change(screen.getByLabelText("Created after"), { target: { value: "2026-12-01T09:30" } });
    await vi.waitFor(() => expect(screen.getByLabelText("Created before")).toHaveAttribute("min", "2026-12-01T09:30"));
    fireEvent.change(screen.getByLabelText("Created before"), { target: { value: "2026-12-02T18:00" } });
    const wanted = {
      page: 1,
      q: "100%_x",
      environment: "staging",
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
        environment: "staging",
        suite: "nightly",
        created_after: new Date("2026-12-01T09:30").toISOString(),
        created_before: new Date("2026-12-02T18:00").toISOString(),
      }),
    );
  });

  it("sort by a column header, in the URL and on the server", async () => {
    const asked: URL[] = [];
    serveSuiteRuns(asked);
    const router = renderAt("/suite-runs?page=2");
    expect(await screen.findByText("a passed suite run")).toBeInTheDocument();
    expect(screen.getByRole("columnheader", { name: "Tests" })).not.toHaveAttribute("aria-sort");

    await userEvent.click(screen.getByRole("button", { name: /Suite run/ }));
    await screen.findByText("Suite runs by name, ascending");
    expect(router.state.location.search).toEqual({ page: 1, sort: "name" });
    expect(asked.at(-1)!.searchParams.get("sort")).toBe("name");
    expect(asked.at(-1)!.searchParams.get("offset")).toBe("0");

    await userEvent.click(screen.getByRole("button", { name: /Status/ }));
    await screen.findByText("Suite runs by status, ascending");
    await userEvent.click(screen.getByRole("button", { name: /Status/ }));
    await screen.findByText("Suite runs by status, descending");
    expect(router.state.location.search).toEqual({ page: 1, sort: "-status" });

    await userEvent.click(screen.getByRole("button", { name: /Duration/ })); // longest first
    await screen.findByText("Suite runs by duration, descending");
    expect(asked.at(-1)!.searchParams.get("sort")).toBe("-duration");

    await userEvent.click(screen.getByRole("button", { name: /Created/ })); // newest first: the default
    await screen.findByText("Suite runs, newest first");
    expect(router.state.location.search).toEqual({ page: 1 });
    expect(asked.at(-1)!.searchParams.has("sort")).toBe(false);
  });

  it("are read back from a shared link", async () => {
    const asked: URL[] = [];
    serveSuiteRuns(asked);
    renderAt(
      "/suite-runs?sort=duration&status=ERROR&trigger=schedule&environment=staging&suite=nightly&q=login" +
        "&after=2026-12-01T09:30&page=2",
    );
    expect(await screen.findByText("a error suite run")).toBeInTheDocument();
    expect(screen.getByLabelText("Status")).toHaveValue("ERROR");
    expect(screen.getByLabelText("Trigger")).toHaveValue("schedule");
    expect(screen.getByLabelText("Environment")).toHaveValue("staging");
    expect(screen.getByLabelText("Suite")).toHaveValue("nightly");
    expect(screen.getByLabelText("Name contains")).toHaveValue("login");
    expect(screen.getByLabelText("Created after")).toHaveValue("2026-12-01T09:30");
    expect(screen.getByRole("columnheader", { name: /Duration/ })).toHaveAttribute("aria-sort", "ascending");
    const last = asked.at(-1)!.searchParams;
    expect([last.get("sort"), last.get("status"), last.get("trigger"), last.get("offset")]).toEqual([
      "duration",
      "ERROR",
      "schedule",
      "25",
    ]);
  });

  it("ignore a sort, a status, a trigger, a time or a text the API would refuse", async () => {
    const asked: URL[] = [];
    serveSuiteRuns(asked);
    const router = renderAt(
      `/suite-runs?sort=priority&status=BROKEN&trigger=cron&before=2026-13-45T99:99&q=${"x".repeat(201)}&suite=%20`,
    );
    expect(await screen.findByText("a passed suite run")).toBeInTheDocument();
    expect(router.state.location.search).toEqual({ page: 1 });
    expect(Object.fromEntries(asked.at(-1)!.searchParams)).toEqual({ limit: "25", offset: "0" });
  });
});
