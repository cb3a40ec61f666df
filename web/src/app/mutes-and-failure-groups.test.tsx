// A test case's Results tab lists its mutes per environment; an editor mutes it on an environment with a reason
// and an end day (checked before sending, the API's refusal shown by the field) and unmutes it. The Failures
// screen lists a project's failure groups with their counts, first seen and known issue; a group's details say
// what changed when it appeared, and an editor links it to an issue (a bad address is refused before sending).
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { changeLines, checkIssueUrl, parseFailureGroupsSearch } from "@/features/insights/api/failure-groups";
import { checkMute, defaultExpiry } from "@/features/insights/api/mutes";
import { session } from "@/shared/auth/session";
import { makeRun } from "@/test/fixtures";
import { server } from "@/test/server";
import { renderAppAt } from "./render-app";

const MUTE = {
  id: "66666666-6666-4666-8666-666666666666",
  project_id: "11111111-1111-4111-8111-111111111111",
  test_case_id: "33333333-3333-4333-8333-333333333333",
  test_case: "prices",
  environment_id: "77777777-7777-4777-8777-777777777777",
  environment: "staging",
  reason: "PAY-12: <b>sandbox</b> drops calls",
  expires_at: "2099-01-01T23:59:59Z",
  active: true,
  created_by: "erin",
  created_at: "2026-12-01T10:00:00Z",
};
const page = (items: unknown[]) => ({ items, total: items.length, limit: 200, offset: 0 });

function resultsTab(mutes: unknown[][], posted: unknown[], deleted: string[]) {
  let listed = 0;
  server.use(
    http.get("*/api/v1/projects/demo/test-cases/prices", () =>
      HttpResponse.json({ id: "t", name: "prices", current_version: 3, description: null }),
    ),
    http.get("*/api/v1/projects/demo/test-cases/prices/yaml", () => HttpResponse.text("name: prices\nsteps: []\n")),
    http.get("*/api/v1/projects/demo/environments", () =>
      HttpResponse.json({ items: [{ id: "e1", name: "staging" }, { id: "e2", name: "production" }], total: 2, limit: 500, offset: 0 }),
    ),
    http.get("*/api/v1/runs", () => HttpResponse.json({ items: [], total: 0, limit: 50, offset: 0 })),
    http.get("*/api/v1/insights/trends", () =>
      HttpResponse.json({ bucket: "day", since: "2026-11-01T00:00:00Z", buckets: [], failures_by_step: [] }),
    ),
    http.get("*/api/v1/insights/flakiness", () => HttpResponse.json({ items: [], total: 0, limit: 1, offset: 0 })),
    http.get("*/api/v1/projects/demo/mutes", ({ request }) => {
      expect(new URL(request.url).searchParams.get("test_case")).toBe("prices");
      return HttpResponse.json(page(mutes[Math.min(listed++, mutes.length - 1)]!));
    }),
    http.post("*/api/v1/projects/demo/mutes", async ({ request }) => {
      const body = (await request.json()) as Record<string, string>;
      posted.push(body);
      if (body.environment === "production") {
        return HttpResponse.json(
          { type: "about:blank", title: "Conflict", status: 409, detail: "'prices' is already muted on 'production'" },
          { status: 409, headers: { "content-type": "application/problem+json" } },
        );
      }
      return HttpResponse.json({ ...MUTE, ...body }, { status: 201 });
    }),
    http.delete("*/api/v1/projects/demo/mutes/:id", ({ params }) => {
      deleted.push(String(params.id));
      return new HttpResponse(null, { status: 204 });
    }),
  );
}

describe("mutes on a test case's results", { timeout: 30_000 }, () => {
  beforeEach(() => session.signIn("a-token"));

  it("lists, creates and deletes mutes per environment", async () => {
    const posted: unknown[] = [];
    const deleted: string[] = [];
    resultsTab([[], [MUTE], []], posted, deleted);
    renderAppAt("/test-cases/demo/prices?tab=results");
    const card = await screen.findByRole("region", { name: "Mutes" });
    expect(await within(card).findByText("Not muted on any environment.")).toBeInTheDocument();

    await userEvent.click(within(card).getByRole("button", { name: "Mute" }));
    expect(await within(card).findByText("Choose the environment it is muted on.")).toBeInTheDocument();
    expect(within(card).getByText("Say why it is muted (reports show it).")).toBeInTheDocument();
    expect(posted).toEqual([]); // nothing sent while a field is wrong

    await userEvent.selectOptions(within(card).getByLabelText("Environment"), "staging");
    await userEvent.type(within(card).getByLabelText("Reason"), MUTE.reason);
    await userEvent.click(within(card).getByRole("button", { name: "Mute" }));
    const row = await within(card).findByRole("row", { name: /staging/ });
    expect(posted).toEqual([
      { test_case: "prices", environment: "staging", reason: MUTE.reason, expires_at: `${defaultExpiry()}T23:59:59Z` },
    ]);
    expect(within(row).getByText(MUTE.reason)).toBeInTheDocument(); // as text, never as markup
    expect(card.querySelector("b")).toBeNull();

    vi.spyOn(window, "confirm").mockReturnValue(true);
    await userEvent.click(within(row).getByRole("button", { name: "Unmute on staging" }));
    expect(await within(card).findByText("Not muted on any environment.")).toBeInTheDocument();
    expect(deleted).toEqual([MUTE.id]);
  });

  it("shows the API's refusal", async () => {
    const posted: unknown[] = [];
    resultsTab([[]], posted, []);
    renderAppAt("/test-cases/demo/prices?tab=results");
    const card = await screen.findByRole("region", { name: "Mutes" });
    await userEvent.selectOptions(await within(card).findByLabelText("Environment"), "production");
    await userEvent.type(within(card).getByLabelText("Reason"), "flaky");
    await userEvent.click(within(card).getByRole("button", { name: "Mute" }));
    expect(await within(card).findByText(/already muted on 'production'/)).toBeInTheDocument();
    expect(posted).toHaveLength(1);
  });
});

const GROUP = {
  id: "88888888-8888-4888-8888-888888888888",
  signature: "main/pay: status: expected 200, got 503",
  failures: 40,
  test_cases: 12,
  first_run_id: "99999999-9999-4999-8999-999999999999",
  first_seen_at: "2026-12-01T09:00:00Z",
  last_seen_at: "2026-12-05T09:00:00Z",
  issue_url: null,
  issue_linked_at: null,
  failures_since_issue: 0,
};
const DETAIL = {
  ...GROUP,
  total_failures: 55,
  by_test_case: [{ test_case: "checkout", failures: 30 }],
  latest_runs: [],
  first_change: {
    first_run: GROUP.first_run_id,
    previous_pass: "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
    test_case_version: [3, 4],
    environment: "staging",
    environment_changed: true,
    variables: [{ path: "$.region", change: "changed", left: "eu", right: "us" }],
    step: "main/pay",
    response_status: [200, 503],
    response_body: [],
  },
};

describe("failure groups", { timeout: 30_000 }, () => {
  beforeEach(() => session.signIn("a-token"));

  it("lists the groups, shows what changed and links a known issue", async () => {
    const linked: unknown[] = [];
    let issue: string | null = null;
    server.use(
      http.get("*/api/v1/projects", () =>
        HttpResponse.json({ items: [{ id: "p", name: "demo" }], total: 1, limit: 500, offset: 0 }),
      ),
      http.get("*/api/v1/insights/failure-groups", ({ request }) => {
        const query = new URL(request.url).searchParams;
        expect([query.get("project"), query.get("days")]).toEqual(["demo", "30"]);
        return HttpResponse.json({ items: [{ ...GROUP, issue_url: issue }], total: 1, limit: 20, offset: 0 });
      }),
      http.get(`*/api/v1/insights/failure-groups/${GROUP.id}`, () => HttpResponse.json({ ...DETAIL, issue_url: issue })),
      http.put(`*/api/v1/insights/failure-groups/${GROUP.id}/issue`, async ({ request }) => {
        const body = (await request.json()) as { url: string };
        linked.push(body);
        issue = body.url;
        return HttpResponse.json({ ...DETAIL, issue_url: issue });
      }),
    );
    renderAppAt("/failure-groups?project=demo");
    const table = await screen.findByRole("table", { name: /Failure groups of demo/ });
    const row = await within(table).findByRole("row", { name: /expected 200, got 503/ });
    expect(within(row).getByText("40")).toBeInTheDocument();
    expect(within(row).getByText("12")).toBeInTheDocument();
    expect(within(row).getByRole("link", { name: /2026/ })).toHaveAttribute("href", `/runs/${GROUP.first_run_id}`);

    await userEvent.click(within(row).getByRole("button", { name: "Details" }));
    const changed = await screen.findByRole("region", { name: "What changed when it appeared" });
    expect(within(changed).getByText("Test-case version v3 → v4.")).toBeInTheDocument();
    expect(within(changed).getByText("Environment staging was edited in between.")).toBeInTheDocument();
    expect(within(changed).getByText("Step main/pay answered 200 → 503.")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "checkout" })).toBeInTheDocument();

    const address = screen.getByLabelText("Known issue");
    await userEvent.type(address, "javascript:alert(1)");
    await userEvent.click(screen.getByRole("button", { name: "Link the issue" }));
    expect(await screen.findByText("An http:// or https:// address, without spaces.")).toBeInTheDocument();
    expect(linked).toEqual([]);

    await userEvent.clear(address);
    await userEvent.type(address, "https://issues.example.com/PAY-12");
    await userEvent.click(screen.getByRole("button", { name: "Link the issue" }));
    expect(await screen.findByRole("link", { name: "https://issues.example.com/PAY-12" })).toBeInTheDocument();
    expect(linked).toEqual([{ url: "https://issues.example.com/PAY-12" }]);
  });

  it("says so when nothing failed", async () => {
    server.use(
      http.get("*/api/v1/projects", () =>
        HttpResponse.json({ items: [{ id: "p", name: "demo" }], total: 1, limit: 500, offset: 0 }),
      ),
      http.get("*/api/v1/insights/failure-groups", () => HttpResponse.json({ items: [], total: 0, limit: 20, offset: 0 })),
    );
    renderAppAt("/failure-groups?project=demo&days=7");
    expect(await screen.findByText("No test of this project failed in the last 7 days.")).toBeInTheDocument();
  });
});

describe("a test that passed on retry", { timeout: 30_000 }, () => {
  beforeEach(() => session.signIn("a-token"));

  it("links the retry and the run it retried both ways", async () => {
    const first = makeRun({ id: "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", status: "FAILED", retry_failed: 1 });
    const retry = makeRun({ status: "PASSED", status_reason: null, retry_failed: 1, retry_of: first.id, flaky: true });
    server.use(
      http.get(`*/api/v1/runs/${retry.id}`, () => HttpResponse.json(retry)),
      http.get(`*/api/v1/runs/${first.id}`, () => HttpResponse.json({ ...first, retried_by: retry.id })),
    );
    renderAppAt(`/runs/${retry.id}`);
    const back = await screen.findByRole("link", { name: "flaky: passed on retry of a failed run" });
    expect(back).toHaveAttribute("href", `/runs/${first.id}`);
    await userEvent.click(back);
    expect(await screen.findByRole("link", { name: "retried: see its retry" })).toHaveAttribute("href", `/runs/${retry.id}`);
  });
});

describe("the helpers' checks", () => {
  it("checks a mute before it is sent", () => {
    const now = new Date("2026-12-06T12:00:00Z");
    expect(checkMute({ environment: "", reason: " ", expires: "" }, now)).toEqual({
      environment: "Choose the environment it is muted on.",
      reason: "Say why it is muted (reports show it).",
      expires_at: "Choose the day the mute ends.",
    });
    expect(checkMute({ environment: "e", reason: "r", expires: "2026-12-05" }, now).expires_at).toBe("Choose a day from today on.");
    expect(checkMute({ environment: "e", reason: "r", expires: "2028-01-01" }, now).expires_at).toBe("At most 366 days ahead.");
    expect(checkMute({ environment: "e", reason: "x".repeat(2001), expires: "2026-12-07" }, now).reason).toBe("At most 2000 characters.");
    expect(checkMute({ environment: "e", reason: "r", expires: "2026-12-07" }, now)).toEqual({
      environment: null,
      reason: null,
      expires_at: null,
    });
  });

  it("checks an issue address and reads the screen's URL", () => {
    expect(checkIssueUrl("")).toBe("Give the issue's address.");
    expect(checkIssueUrl("ftp://x")).toBe("An http:// or https:// address, without spaces.");
    expect(checkIssueUrl("https://a b")).toBe("An http:// or https:// address, without spaces.");
    expect(checkIssueUrl(`https://x/${"a".repeat(2000)}`)).toBe("At most 2000 characters.");
    expect(checkIssueUrl("https://issues.example.com/PAY-12")).toBeNull();
    expect(parseFailureGroupsSearch({ project: " demo ", days: "90", page: "3" })).toEqual({ project: "demo", days: 90, page: 3 });
    expect(parseFailureGroupsSearch({ project: "", days: "5", page: "-1" })).toEqual({ project: undefined, days: undefined, page: undefined });
    expect(changeLines({ ...DETAIL.first_change, previous_pass: null, environment_changed: false, variables: [], step: null })).toEqual([
      "The test case had not passed on this environment before.",
    ]);
  });
});
