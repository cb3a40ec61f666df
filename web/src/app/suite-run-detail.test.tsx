// A suite run's page: reached from the suite-runs list, its tests (setup and teardown too) each linking to
// their run, live while it goes on, and its actions for an editor.
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { applySuiteRunEvent } from "@/features/runs/api/suite-run-events";
import { session } from "@/shared/auth/session";
import { makeRun, makeSuiteRun, PROJECT_ID } from "@/test/fixtures";
import { server } from "@/test/server";
import { renderAppAt } from "./render-app";

const SUITE_RUN = "55555555-5555-4555-8555-555555555555";
const NEW_SUITE_RUN = "99999999-9999-4999-8999-999999999999";
const SETUP = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const FAILED_RUN = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";

function nightly(overrides: Parameters<typeof makeSuiteRun>[0] = {}) {
  return makeSuiteRun({
    status: "FAILED",
    counts: { PASSED: 1, FAILED: 1 },
    muted: 0,
    total: 2,
    runs: [
      makeRun({ name: "checkout", status: "PASSED", duration_ms: 1200 }),
      makeRun({ id: FAILED_RUN, name: "refund", status: "FAILED", status_reason: "2 of 5 checks failed" }),
    ],
    setup: {
      id: SETUP,
      phase: "setup",
      status: "PASSED",
      status_reason: "all 1 steps passed",
      attempt: 1,
      started_at: null,
      finished_at: null,
      shared: {},
    },
    ...overrides,
  });
}

function serve(suiteRun: ReturnType<typeof makeSuiteRun>) {
  server.use(
    http.get("*/api/v1/projects", () =>
      HttpResponse.json({ items: [{ id: PROJECT_ID, name: "examples" }], total: 1, limit: 500, offset: 0 }),
    ),
    http.get("*/api/v1/suite-runs", () => HttpResponse.json({ items: [suiteRun], total: 1, limit: 25, offset: 0 })),
    http.get(`*/api/v1/suite-runs/${suiteRun.id}`, () => HttpResponse.json(suiteRun)),
  );
}

describe("a suite run's page", { timeout: 20_000 }, () => {
  beforeEach(() => session.signIn("a-token"));

  it("is reached from the list and links every test, setup included, to its run", async () => {
    serve(nightly());
    const { router } = renderAppAt("/suite-runs");
    await userEvent.click(await screen.findByRole("link", { name: "nightly" }));
    expect(await screen.findByRole("heading", { name: "nightly" })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe(`/suite-runs/${SUITE_RUN}`);
    expect(screen.getByText("1 of 2 tests passed")).toBeInTheDocument();
    const table = screen.getByRole("table", { name: "The suite run's tests" });
    const links = within(table).getAllByRole("link").map((link) => [link.textContent, link.getAttribute("href")]);
    expect(links).toEqual([
      ["Suite setup", `/runs/${SETUP}`],
      ["checkout", `/runs/${makeRun().id}`],
      ["refund", `/runs/${FAILED_RUN}`],
    ]);
    expect(within(table).getByText("2 of 5 checks failed")).toBeInTheDocument();
  });

  it("re-runs the tests that did not pass and goes to the new suite run", async () => {
    serve(nightly());
    const asked: unknown[] = [];
    server.use(
      http.post(`*/api/v1/suite-runs/${SUITE_RUN}/rerun`, async ({ request }) => {
        asked.push(await request.json());
        return HttpResponse.json({ id: NEW_SUITE_RUN, status: "PENDING", runs: [] }, { status: 201 });
      }),
      http.get(`*/api/v1/suite-runs/${NEW_SUITE_RUN}`, () =>
        HttpResponse.json(makeSuiteRun({ id: NEW_SUITE_RUN, name: "nightly again", status: "PASSED" })),
      ),
    );
    const { router } = renderAppAt(`/suite-runs/${SUITE_RUN}`);
    await userEvent.click(await screen.findByRole("button", { name: "Re-run the tests that did not pass (1)" }));
    expect(await screen.findByRole("heading", { name: "nightly again" })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe(`/suite-runs/${NEW_SUITE_RUN}`);
    expect(asked).toEqual([{ only_failed: true }]);
  });

  it("offers cancel while it goes on and shows the API's refusal", async () => {
    serve(nightly({ status: "IN_PROGRESS", finished_at: null }));
    server.use(
      http.get(`*/api/v1/suite-runs/${SUITE_RUN}/events`, () => new HttpResponse(null, { status: 404 })),
      http.post(`*/api/v1/suite-runs/${SUITE_RUN}/cancel`, () =>
        HttpResponse.json(
          { type: "about:blank", title: "Forbidden", status: 403, detail: "editors may cancel" },
          { status: 403, headers: { "content-type": "application/problem+json" } },
        ),
      ),
    );
    renderAppAt(`/suite-runs/${SUITE_RUN}`);
    expect(screen.queryByRole("button", { name: /Re-run/ })).toBeNull();
    await userEvent.click(await screen.findByRole("button", { name: "Cancel suite run" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("editors may cancel");
  });

  it("follows the suite run's events with the current token and applies them", async () => {
    const running = nightly({ status: "IN_PROGRESS", finished_at: null, counts: { PASSED: 1 }, total: 2 });
    serve(running);
    const tokens: (string | null)[] = [];
    server.use(
      http.get(`*/api/v1/suite-runs/${SUITE_RUN}/events`, ({ request }) => {
        tokens.push(request.headers.get("authorization"));
        const body = [
          `event: run\ndata: ${JSON.stringify({ id: FAILED_RUN, name: "refund", status: "PASSED", reason: "all 5 checks passed" })}\n\n`,
          `event: progress\ndata: ${JSON.stringify({ status: "PASSED", counts: { PASSED: 2 }, total: 2 })}\n\n`,
        ].join("");
        return new HttpResponse(body, { headers: { "content-type": "text/event-stream" } });
      }),
    );
    renderAppAt(`/suite-runs/${SUITE_RUN}`);
    expect(await screen.findByText("2 of 2 tests passed")).toBeInTheDocument();
    expect(screen.getByText("all 5 checks passed")).toBeInTheDocument();
    expect(tokens[0]).toBe("Bearer a-token");
  });

  it("says so when the suite run cannot be loaded", async () => {
    server.use(
      http.get(`*/api/v1/suite-runs/${SUITE_RUN}`, () =>
        HttpResponse.json(
          { type: "about:blank", title: "Not Found", status: 404, detail: `suite run ${SUITE_RUN} not found` },
          { status: 404, headers: { "content-type": "application/problem+json" } },
        ),
      ),
    );
    renderAppAt(`/suite-runs/${SUITE_RUN}`);
    await waitFor(() => expect(screen.getByRole("alert")).toHaveTextContent("not found"));
  });
});

describe("a suite run's live events", () => {
  const shown = nightly({ status: "IN_PROGRESS" });
  const message = (event: string, data: unknown) => ({ event, data: JSON.stringify(data), id: "", retry: undefined });

  it("change the status of the run they name and the counts", () => {
    const moved = applySuiteRunEvent(shown, message("run", { id: FAILED_RUN, status: "PASSED", reason: "ok" }));
    expect(moved?.runs.find((run) => run.id === FAILED_RUN)).toMatchObject({ status: "PASSED", status_reason: "ok" });
    const counted = applySuiteRunEvent(shown, message("progress", { status: "PASSED", counts: { PASSED: 2 }, total: 2 }));
    expect(counted).toMatchObject({ status: "PASSED", counts: { PASSED: 2 }, total: 2 });
    expect(counted?.runs).toBe(shown.runs);
  });

  it("ask for the suite run again when a run is not shown yet (a retry)", () => {
    const unknown = "cccccccc-cccc-4ccc-8ccc-cccccccccccc";
    expect(applySuiteRunEvent(shown, message("run", { id: unknown, status: "QUEUED", reason: null }))).toBeNull();
  });
});
