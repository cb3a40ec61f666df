// A run's page offers what the signed-in role may do with it: cancel while it runs; run it again; its suite
// run's failed tests again once that has ended with some. A viewer is offered nothing.
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { session } from "@/shared/auth/session";
import { makeRun } from "@/test/fixtures";
import { server } from "@/test/server";
import { renderAppAt } from "./render-app";

const SUITE_RUN = "77777777-7777-4777-8777-777777777777";
const NEW_RUN = "88888888-8888-4888-8888-888888888888";

function renderAt(url: string) {
  return renderAppAt(url).router;
}

function serveRun(run: ReturnType<typeof makeRun>, suiteCounts: Record<string, number>, suiteStatus = "FAILED") {
  server.use(
    http.get(`*/api/v1/runs/${run.id}`, () => HttpResponse.json(run)),
    http.get(`*/api/v1/runs/${NEW_RUN}`, () => HttpResponse.json(makeRun({ id: NEW_RUN, name: "run again", status: "PASSED" }))),
    http.get(`*/api/v1/suite-runs/${SUITE_RUN}`, () =>
      HttpResponse.json({
        id: SUITE_RUN,
        status: suiteStatus,
        counts: suiteCounts,
        total: Object.values(suiteCounts).reduce((sum, count) => sum + count, 0),
        runs: [],
      }),
    ),
  );
}

describe("a run's actions", { timeout: 20_000 }, () => {
  beforeEach(() => session.signIn("a-token"));

  it("re-runs the suite run's failed tests once it has ended, and goes to the new run", async () => {
    const run = makeRun({ suite_run_id: SUITE_RUN, status: "FAILED" });
    serveRun(run, { PASSED: 1, FAILED: 1, ERROR: 1 });
    const asked: unknown[] = [];
    server.use(
      http.post(`*/api/v1/suite-runs/${SUITE_RUN}/rerun`, async ({ request }) => {
        asked.push(await request.json());
        return HttpResponse.json({ id: SUITE_RUN, status: "PENDING", runs: [NEW_RUN] }, { status: 201 });
      }),
    );
    const router = renderAt(`/runs/${run.id}`);
    await userEvent.click(await screen.findByRole("button", { name: "Re-run the suite run's failed tests (2)" }));
    expect(await screen.findByRole("heading", { name: "run again" })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe(`/runs/${NEW_RUN}`);
    expect(asked).toEqual([{ only_failed: true }]);
    expect(screen.queryByRole("button", { name: "Cancel run" })).toBeNull(); // it ended
  });

  it("offers no failed tests of a suite run that passed or is still going on", async () => {
    const run = makeRun({ suite_run_id: SUITE_RUN, status: "PASSED" });
    serveRun(run, { PASSED: 2 }, "PASSED");
    renderAt(`/runs/${run.id}`);
    expect(await screen.findByRole("button", { name: "Re-run its suite run" })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /failed tests/ })).toBeNull();
  });

  it("shows the API's refusal of a cancel", async () => {
    const run = makeRun({ status: "QUEUED", finished_at: null });
    serveRun(run, {});
    server.use(
      http.get(`*/api/v1/runs/${run.id}/events`, () => new HttpResponse(null, { status: 404 })),
      http.post(`*/api/v1/runs/${run.id}/cancel`, () =>
        HttpResponse.json(
          { type: "about:blank", title: "Conflict", status: 409, detail: `run ${run.id} already ended PASSED` },
          { status: 409, headers: { "content-type": "application/problem+json" } },
        ),
      ),
    );
    renderAt(`/runs/${run.id}`);
    await userEvent.click(await screen.findByRole("button", { name: "Cancel run" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("already ended PASSED");
  });

  it("offers a viewer nothing", async () => {
    const run = makeRun({ suite_run_id: SUITE_RUN, status: "IN_PROGRESS", finished_at: null });
    serveRun(run, { FAILED: 1 });
    server.use(
      http.get("*/api/v1/me", () =>
        HttpResponse.json({ name: "v", kind: "token", role: "viewer", platform_admin: false, project_id: null, manages_tokens: false }),
      ),
      http.get(`*/api/v1/runs/${run.id}/events`, () => new HttpResponse(null, { status: 404 })),
    );
    const router = renderAt(`/runs/${run.id}`);
    expect(await screen.findByRole("heading", { name: run.name })).toBeInTheDocument();
    await waitFor(() => expect(router.options.context.queryClient.getQueryData(["me"])).toMatchObject({ role: "viewer" }));
    expect(screen.queryByRole("group", { name: "Run actions" })).toBeNull();
    expect(screen.queryByRole("button", { name: /Cancel|Re-run/ })).toBeNull();
  });
});
