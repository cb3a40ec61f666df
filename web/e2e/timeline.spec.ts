// A run of 501 steps against a real `orchestra up` and the demo SUT: its timeline follows the run live to the
// last step, keeps only the rows in view in the page, is scrolled to its end, and a far step is reached and
// opened with the keyboard alone, its response shown. Checked with axe and photographed, light and dark.
import { existsSync } from "node:fs";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { CHROMIUM } from "../playwright.config";

test.skip(!existsSync(CHROMIUM), `Debian's chromium is not at ${CHROMIUM} (apt-get install -y chromium)`);

const SHOTS = "artifacts/screenshots";
const PROJECT = "e2e-timeline";
const PINGS = 500;
const STEPS = PINGS + 1; // a short sleep first (the page is open before the steps flow), then the pings
/** Far more than a screen holds, far fewer than the run's steps. */
const MAX_ROWS = 60;

async function call(request: APIRequestContext, method: string, path: string, data?: unknown) {
  const response = await request.fetch(`/api/v1${path}`, {
    method,
    data,
    headers: { Authorization: `Bearer ${process.env.ORCHESTRA_TOKEN}` },
  });
  expect(response.ok(), `${method} ${path}: ${response.status()} ${await response.text()}`).toBe(true);
  return response.json();
}

async function accessible(page: Page) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
  expect(bad.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`)).toEqual([]);
}

test.use({ viewport: { width: 1280, height: 900 } });

test.beforeAll(async ({ request }) => {
  const demo = await call(request, "GET", "/projects/examples/environments/demo");
  await call(request, "POST", "/projects", { name: PROJECT });
  await call(request, "POST", `/projects/${PROJECT}/environments`, {
    name: "sut",
    base_url: demo.base_url,
    allow_private_network: true,
  });
  await call(request, "POST", `/projects/${PROJECT}/apply`, {
    test_cases: [
      {
        name: "five-hundred-pings",
        steps: [
          { name: "let the page open", sleep: "3s" },
          {
            name: "ping",
            repeat: PINGS,
            request: { url: "{{ env.base_url }}/health?ping={{ item }}" },
            expect: { status: 200, json: { "$.status": "ok" } },
          },
        ],
      },
    ],
  });
});

test("a 501-step run: followed live to its end, only the rows in view in the page, a far step opened by keyboard", async ({
  page,
  request,
}) => {
  test.setTimeout(240_000);
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  await page.goto("/");
  await page.getByLabel("Token").fill(process.env.ORCHESTRA_TOKEN ?? "");
  await page.getByLabel("Token").press("Enter");
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();

  const run = await call(request, "POST", "/runs", { project: PROJECT, environment: "sut", test_case: "five-hundred-pings" });
  await page.goto(`/runs/${run.id}`);
  await expect(page.getByText("live: steps appear as they are committed")).toBeVisible();
  const list = page.getByRole("list", { name: /^Steps/ });
  const rows = list.locator(":scope > li");
  const scroller = page.locator("div:has(> ol[aria-labelledby='steps-heading'])"); // the list's own scroll box

  // Live over Server-Sent Events: every step arrives once, and the list follows the tail to the last one.
  await expect(page.getByRole("heading", { name: `Steps (${STEPS})` })).toBeVisible({ timeout: 180_000 });
  await expect(page.getByText("PASSED", { exact: true }).first()).toBeVisible({ timeout: 30_000 });
  const last = rows.filter({ hasText: `ping [${PINGS}]` });
  await scroller.scrollIntoViewIfNeeded(); // the page down to the list (the list itself is at its end)
  await expect(last).toBeInViewport();
  await expect(last).toHaveAttribute("aria-posinset", String(STEPS));
  await expect(last).toHaveAttribute("aria-setsize", String(STEPS));
  expect(await rows.count()).toBeLessThanOrEqual(MAX_ROWS);
  const seqs = await rows.evaluateAll((items) => items.map((item) => item.getAttribute("data-seq")));
  expect(new Set(seqs).size).toBe(seqs.length); // none shown twice
  const steps = (await call(request, "GET", `/runs/${run.id}`)).steps as { seq: number }[];
  expect(steps).toHaveLength(STEPS);

  // Back to the top with the wheel, then to the end again.
  await scroller.hover();
  for (let turn = 0; turn < 200; turn += 1) {
    if ((await scroller.evaluate((element) => element.scrollTop)) === 0) break;
    await page.mouse.wheel(0, -5000);
  }
  await expect(rows.filter({ hasText: "let the page open" })).toBeInViewport();
  await expect(last).toHaveCount(0); // far below: not in the page at all
  expect(await rows.count()).toBeLessThanOrEqual(MAX_ROWS);
  await scroller.evaluate((element) => element.scrollTo({ top: element.scrollHeight }));
  await expect(last).toBeInViewport();
  expect(await rows.count()).toBeLessThanOrEqual(MAX_ROWS);

  // The keyboard alone: Home, End, then up to "ping [480]", Enter opens it, the Response tab shows the answer.
  await rows.filter({ hasText: `ping [${PINGS}]` }).locator("summary").focus();
  await page.keyboard.press("Home");
  await expect(rows.filter({ hasText: "let the page open" }).locator("summary")).toBeFocused();
  await page.keyboard.press("End");
  await expect(last.locator("summary")).toBeFocused();
  for (let step = PINGS; step > 480; step -= 1) await page.keyboard.press("ArrowUp");
  const far = rows.filter({ hasText: "ping [480]" });
  const summary = far.locator("summary");
  await expect(summary).toBeFocused();
  await expect(summary).toBeInViewport();
  const outline = await summary.evaluate((element) => getComputedStyle(element).outlineStyle);
  expect(outline).not.toBe("none"); // the focus is visible
  await page.keyboard.press("Enter");
  await expect(far.locator("details")).toHaveAttribute("open", "");
  await page.keyboard.press("Tab"); // into the step's tabs: Checks, then → Request, → Response
  await expect(far.getByRole("tab", { name: "Checks" })).toBeFocused();
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowRight");
  await expect(far.getByRole("tab", { name: "Response" })).toHaveAttribute("aria-selected", "true");
  await expect(far.getByText("200 OK")).toBeVisible();
  await expect(far.getByLabel("Response body")).toContainText('"status": "ok"');
  await expect(far.getByLabel("Response headers")).toContainText("content-type: application/json");
  expect(await rows.count()).toBeLessThanOrEqual(MAX_ROWS);
  await accessible(page);
  await page.screenshot({ path: `${SHOTS}/24-run-501-steps.png`, fullPage: true });

  // Scrolled away, the row holding focus stays in the page; the keyboard goes on from it.
  await scroller.evaluate((element) => element.scrollTo({ top: 0 }));
  await expect(rows.filter({ hasText: "let the page open" })).toBeInViewport();
  await expect(far.getByRole("tab", { name: "Response" })).toBeFocused();
  await page.keyboard.press("Shift+Tab");
  await expect(summary).toBeFocused();
  await page.keyboard.press("ArrowDown");
  await expect(rows.filter({ hasText: "ping [481]" }).locator("summary")).toBeFocused();
  await expect(rows.filter({ hasText: "ping [481]" })).toBeInViewport();
  // Gone from the page and back: the step is still open on its Response tab.
  await page.keyboard.press("Home");
  await expect(far).toHaveCount(0);
  await page.keyboard.press("End");
  for (let step = PINGS; step > 480; step -= 1) await page.keyboard.press("ArrowUp");
  await expect(summary).toBeFocused();
  await expect(far.locator("details")).toHaveAttribute("open", "");
  await expect(far.getByRole("tab", { name: "Response" })).toHaveAttribute("aria-selected", "true");
  await expect(far.getByLabel("Response body")).toContainText('"status": "ok"');

  await page.getByRole("button", { name: "Switch to the dark theme" }).click();
  await expect(page.locator("html")).toHaveClass(/dark/);
  await accessible(page);
  await page.screenshot({ path: `${SHOTS}/24b-run-501-steps-dark.png`, fullPage: true });
  await page.getByRole("button", { name: "Switch to the light theme" }).click();
  expect(errors).toEqual([]);
});
