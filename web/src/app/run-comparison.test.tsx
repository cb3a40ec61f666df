// A failed run is one click from its comparison with the last pass: the steps that differ open first, each
// with its checks side by side and the response bodies' differences, shown as text. A run with no earlier pass
// says so. On a test case's Results tab, two runs picked from its latest runs are compared the same way.
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { lastFailureAndPass, parseCompareSearch } from "@/features/insights/api/insights";
import { session } from "@/shared/auth/session";
import { makeRun } from "@/test/fixtures";
import { server } from "@/test/server";
import { renderAppAt } from "./render-app";

const LEFT = "11111111-1111-4111-8111-111111111111";
const RIGHT = "22222222-2222-4222-8222-222222222222";
const XSS = "<img src=x onerror=alert(1)>";

function renderAt(url: string) {
  return renderAppAt(url).router;
}

const side = (id: string, status: string) => ({
  id,
  status,
  test_case_version: 3,
  environment: "staging",
  created_at: "2026-12-01T10:00:00Z",
  duration_ms: 120,
});

const COMPARISON = {
  test_case_id: "33333333-3333-4333-8333-333333333333",
  left: side(LEFT, "FAILED"),
  right: side(RIGHT, "PASSED"),
  steps: [
    {
      phase: "test",
      name: "login",
      left_status: "PASSED",
      right_status: "PASSED",
      left_duration_ms: 10,
      right_duration_ms: 11,
      left_response_status: 200,
      right_response_status: 200,
      same: true,
      checks: [],
      body: [],
    },
    {
      phase: "test",
      name: "get price",
      left_status: "FAILED",
      right_status: "PASSED",
      left_duration_ms: 30,
      right_duration_ms: 25,
      left_response_status: 200,
      right_response_status: 200,
      same: false,
      checks: [
        { check: "json $.price", left_passed: false, right_passed: true, expected: 10, left_actual: 9.99, right_actual: 10 },
      ],
      body: [{ path: "$.price", change: "changed", left: 9.99, right: 10 }, { path: "$.note", change: "added", left: null, right: XSS }],
    },
  ],
  captured: [{ path: "$.token", change: "changed", left: "********", right: "********" }],
};

describe("comparing runs", { timeout: 20_000 }, () => {
  beforeEach(() => session.signIn("a-token"));

  it("opens from a failed run and shows what differs from the last pass", async () => {
    const asked: string[] = [];
    server.use(
      http.get(`*/api/v1/runs/${LEFT}`, () => HttpResponse.json(makeRun({ id: LEFT, status: "FAILED" }))),
      http.get(`*/api/v1/runs/${LEFT}/compare`, ({ request }) => {
        asked.push(new URL(request.url).searchParams.get("with") ?? "");
        return HttpResponse.json(COMPARISON);
      }),
    );
    const router = renderAt(`/runs/${LEFT}`);
    await userEvent.click(await screen.findByRole("link", { name: "Compare with the last pass" }));
    expect(await screen.findByRole("heading", { name: "Steps (1 of 2 differ)" })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe(`/runs/${LEFT}/compare`);
    expect(asked).toEqual(["last_pass"]);
    expect(screen.queryByText("login")).not.toBeInTheDocument(); // the same step is hidden at first
    const checks = screen.getByRole("table", { name: "Checks of the step in both runs" });
    expect(within(checks).getByText("json $.price")).toBeInTheDocument();
    expect(within(checks).getByText("9.99")).toBeInTheDocument();
    const body = screen.getByRole("table", { name: "Differences of the response bodies" });
    expect(within(body).getByText(JSON.stringify(XSS))).toBeInTheDocument(); // as text
    expect(document.querySelector("img")).toBeNull();
    await userEvent.click(screen.getByRole("checkbox", { name: "Only the steps that differ" }));
    expect(screen.getByText("login")).toBeInTheDocument();
  });

  it("says so when there is no earlier pass", async () => {
    server.use(
      http.get(`*/api/v1/runs/${LEFT}/compare`, () =>
        HttpResponse.json({ title: "Not found", status: 404, detail: "no passing run" }, { status: 404 }),
      ),
    );
    renderAt(`/runs/${LEFT}/compare`);
    expect(await screen.findByRole("alert")).toHaveTextContent("There is no passing run of this test case");
  });

  it("compares two runs picked on the test case's results", async () => {
    const runs = [makeRun({ id: LEFT, status: "FAILED" }), makeRun({ id: RIGHT, status: "PASSED" })];
    server.use(
      http.get("*/api/v1/projects/demo/test-cases/prices", () =>
        HttpResponse.json({ id: "t", name: "prices", current_version: 3, description: null }),
      ),
      http.get("*/api/v1/projects/demo/test-cases/prices/yaml", () => HttpResponse.text("name: prices\nsteps: []\n")),
      http.get("*/api/v1/projects/demo/environments", () => HttpResponse.json({ items: [], total: 0, limit: 500, offset: 0 })),
      http.get("*/api/v1/runs", () => HttpResponse.json({ items: runs, total: 2, limit: 50, offset: 0 })),
      http.get("*/api/v1/insights/trends", () =>
        HttpResponse.json({ bucket: "day", since: "2026-11-01T00:00:00Z", buckets: [], failures_by_step: [] }),
      ),
      http.get("*/api/v1/insights/flakiness", () => HttpResponse.json({ items: [], total: 0, limit: 1, offset: 0 })),
      http.get("*/api/v1/projects/demo/mutes", () => HttpResponse.json({ items: [], total: 0, limit: 200, offset: 0 })),
      http.get(`*/api/v1/runs/${LEFT}/compare`, () => HttpResponse.json(COMPARISON)),
    );
    const router = renderAt("/test-cases/demo/prices?tab=results");
    const quick = await screen.findByRole("link", { name: "Compare the last failure with the pass before it" }, { timeout: 10_000 });
    expect(quick).toHaveAttribute(
      "href",
      `/runs/${LEFT}/compare?with=${RIGHT}`,
    );
    const boxes = await screen.findAllByRole("checkbox", { name: /Select the run/ });
    await userEvent.click(boxes[0]!);
    await userEvent.click(boxes[1]!);
    await userEvent.click(screen.getByRole("link", { name: "Compare the two selected runs" }));
    expect(await screen.findByRole("heading", { name: "Comparing two runs" })).toBeInTheDocument();
    expect(router.state.location.search).toEqual({ with: RIGHT });
  });
});

describe("the comparison's helpers", () => {
  it("pairs the last failure with the pass before it", () => {
    const runs = (statuses: string[]) => statuses.map((status, index) => ({ id: `r${index}`, status }));
    expect(lastFailureAndPass(runs(["PASSED", "FAILED", "ERROR", "PASSED"]))).toEqual({ failed: "r1", passed: "r3" });
    expect(lastFailureAndPass(runs(["PASSED", "PASSED"]))).toBeNull();
    expect(lastFailureAndPass(runs(["FAILED", "ERROR"]))).toBeNull();
  });

  it("reads the run to compare with from the URL, the last pass by default", () => {
    expect(parseCompareSearch({})).toEqual({ with: "last_pass" });
    expect(parseCompareSearch({ with: " abc " })).toEqual({ with: "abc" });
    expect(parseCompareSearch({ with: "x".repeat(41) })).toEqual({ with: "last_pass" });
    expect(parseCompareSearch({ with: 5 })).toEqual({ with: "last_pass" });
  });
});
