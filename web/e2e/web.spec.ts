// The web application against a real `orchestra up` with the demo: sign in with the local admin token,
// the overview, the runs list and its filters, a failed run's checks, a SUT's HTML shown as text, sign out;
// the suite-runs list, its filters and orders through the URL, and a suite run's page.
// Screenshots of every screen go to web/artifacts/screenshots/.
import { existsSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { CHROMIUM } from "../playwright.config";

test.skip(!existsSync(CHROMIUM), `Debian's chromium is not at ${CHROMIUM} (apt-get install -y chromium)`);

const SHOTS = "artifacts/screenshots";

async function shot(page: Page, name: string) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

async function signIn(page: Page) {
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in/);
  await expect(page.getByRole("heading", { name: "Sign in to Orchestra" })).toBeVisible();
  await page.getByLabel("Token").fill("not-a-token");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert")).toContainText("not accepted");
  await shot(page, "01-sign-in");
  await page.getByLabel("Token").fill(process.env.ORCHESTRA_TOKEN ?? "");
  await page.getByLabel("Token").press("Enter"); // the keyboard is enough
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
}

test("sign in, the overview, the runs, a failed run's checks, sign out", async ({ page }) => {
  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  const consoleErrors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });

  await signIn(page);
  expect(page.url()).not.toContain(process.env.ORCHESTRA_TOKEN ?? "?");
  const recent = page.getByRole("region", { name: "Recent runs" });
  await expect(recent.getByRole("listitem")).toHaveCount(10); // the demo made 17 runs: the latest 10
  await shot(page, "02-overview");

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Runs", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Runs" })).toBeVisible();
  await expect(page.getByText(/1–\d+ of \d+/)).toBeVisible();
  await shot(page, "03-runs");

  await page.getByLabel("Status").selectOption("FAILED");
  await expect(page).toHaveURL(/status=FAILED/);
  const rows = page.getByRole("table").getByRole("row");
  await expect(rows.filter({ hasText: "expected-failure-schema" })).toBeVisible();
  await expect(rows.filter({ hasText: "PASSED" })).toHaveCount(0);
  await page.getByLabel("Project").selectOption("examples");
  await expect(page).toHaveURL(/project=examples/);
  await shot(page, "04-runs-failed");
  // Sorted by the server (the header says how), and a text filter: both in the URL.
  await page.getByRole("columnheader", { name: /Test/ }).getByRole("button").click();
  await expect(page).toHaveURL(/sort=name/);
  await expect(page.getByRole("columnheader", { name: /Test/ })).toHaveAttribute("aria-sort", "ascending");
  const names = await rows.locator("td:first-child a").allTextContents();
  expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  await page.getByLabel("Name contains").fill("wrong-value");
  await page.getByLabel("Name contains").press("Enter");
  await expect(page).toHaveURL(/q=wrong-value/);
  await expect(rows.locator("td:first-child a")).toHaveText(["expected-failure-wrong-value"]);
  await shot(page, "04b-runs-sorted-filtered");

  await page.getByRole("link", { name: "expected-failure-wrong-value" }).click();
  await expect(page.getByRole("heading", { name: "expected-failure-wrong-value" })).toBeVisible();
  await expect(page.getByRole("heading", { name: /Steps \(\d+\)/ })).toBeVisible();
  const failedStep = page.locator("details[open]").first();
  const check = failedStep.getByRole("row").filter({ hasText: "$.price" });
  await expect(check.getByRole("cell").nth(1)).toHaveText("10");
  await expect(check.getByRole("cell").nth(2)).toHaveText("9.99");
  await shot(page, "05-run-failed-checks");
  // The assistant reads the failure (the ai-service `orchestra up` starts when first asked).
  await page.getByRole("button", { name: "Explain this failure" }).click();
  const explanation = page.getByRole("region", { name: "Explanation of the failure" });
  await expect(explanation.getByRole("link", { name: /^\[.+\]$/ }).first()).toBeVisible({ timeout: 45_000 });
  await shot(page, "05b-run-explained");
  await failedStep.getByRole("tab", { name: "Response" }).click();
  await expect(failedStep.getByLabel("Response body")).toContainText("9.99");

  // A SUT's HTML is text: the demo's HTML page, and its <script>, never become elements.
  await page.goto("/runs?status=PASSED&project=examples");
  await page.getByRole("link", { name: "html-and-big-bodies" }).click();
  const htmlStep = page.locator("details").filter({ hasText: "an HTML page" });
  await htmlStep.locator("summary").click();
  await htmlStep.getByRole("tab", { name: "Response" }).click();
  await expect(htmlStep.getByLabel("Response body")).toContainText("<title>Orchestra demo shop</title>");
  await expect(page.locator("main h1", { hasText: "Orchestra demo shop" })).toHaveCount(0);
  await shot(page, "06-run-html-as-text");

  // The dark theme, on the run's page.
  await page.getByRole("button", { name: "Switch to the dark theme" }).click();
  await expect(page.locator("html")).toHaveClass(/dark/);
  await shot(page, "07-run-dark");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Sign in to Orchestra" })).toBeVisible();
  expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  await page.goto("/runs");
  await expect(page).toHaveURL(/\/sign-in/);

  expect(dialogs).toEqual([]);
  expect(consoleErrors.filter((text) => !text.includes("401"))).toEqual([]);
});

test("the suite runs: filtered by project and status, sorted and searched on the server, all in the URL", async ({ page }) => {
  await signIn(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Suite runs" }).click();
  await expect(page.getByRole("heading", { name: "Suite runs" })).toBeVisible();
  await expect(page.getByRole("columnheader", { name: /Created/ })).toHaveAttribute("aria-sort", "descending");
  const rows = page.getByRole("table").getByRole("row");
  const names = rows.locator("td:first-child a");
  // `orchestra up` ran the example suite ("demo", project examples) and the test-data one ("test-data").
  await expect(names.filter({ hasText: /^(demo|test-data)$/ })).toHaveText(["test-data", "demo"]);
  await shot(page, "08-suite-runs");

  await page.getByLabel("Project").selectOption("examples");
  await expect(page).toHaveURL(/project=examples/);
  await expect(names).toHaveText(["demo"]);
  const status = (await rows.filter({ hasText: "demo" }).locator("td:nth-child(2) span").first().textContent()) ?? "";
  await page.getByLabel("Status").selectOption(status.replace(" ", "_"));
  await expect(page).toHaveURL(new RegExp(`status=${status.replace(" ", "_")}`));
  await expect(names).toHaveText(["demo"]);
  await page.getByLabel("Status").selectOption("PENDING"); // no suite run is waiting any more
  await expect(page.getByText("No suite runs match these filters.")).toBeVisible();

  // A shared link: sorted by name, descending, and a text in the name; what it says is what is shown.
  await page.goto("/suite-runs?sort=-name&q=DATA&trigger=manual");
  await expect(page.getByLabel("Name contains")).toHaveValue("DATA");
  await expect(page.getByLabel("Trigger")).toHaveValue("manual");
  await expect(page.getByRole("columnheader", { name: /Suite run/ })).toHaveAttribute("aria-sort", "descending");
  await expect(names).toHaveText(["test-data"]);
  await page.getByLabel("Name contains").fill("");
  await page.getByLabel("Name contains").press("Enter");
  await expect(page).not.toHaveURL(/q=/);
  const ours = names.filter({ hasText: /^(demo|test-data)$/ });
  await expect(ours).toHaveText(["test-data", "demo"]); // by name, descending
  await page.getByRole("columnheader", { name: /Suite run/ }).getByRole("button").click();
  await expect(page).toHaveURL(/sort=name/);
  await expect(ours).toHaveText(["demo", "test-data"]);
  const all = await names.allTextContents();
  expect(all).toEqual([...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  await page.getByRole("columnheader", { name: /Duration/ }).getByRole("button").click(); // longest first
  await expect(page).toHaveURL(/sort=-duration/);
  await expect(page.getByRole("columnheader", { name: /Duration/ })).toHaveAttribute("aria-sort", "descending");
  await shot(page, "09-suite-runs-sorted");

  // A suite run's page, from its row: every test of the suite links to its run.
  await names.filter({ hasText: /^demo$/ }).click();
  await expect(page).toHaveURL(/\/suite-runs\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name: "demo", exact: true })).toBeVisible();
  const tests = page.getByRole("table", { name: "The suite run's tests" }).getByRole("link");
  await expect(tests.first()).toBeVisible();
  const total = Number(/Tests \((\d+)\)/.exec((await page.getByRole("heading", { name: /^Tests \(/ }).textContent()) ?? "")?.[1]);
  expect(await tests.count()).toBeGreaterThanOrEqual(total);
  await expect(page.getByText(/of \d+ tests passed/)).toBeVisible();
  await shot(page, "09b-suite-run");
  const aTest = tests.filter({ hasNotText: /^Suite (setup|teardown)$/ }).first();
  const first = (await aTest.textContent()) ?? "";
  await aTest.click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name: first, exact: true })).toBeVisible();
  await page.getByRole("link", { name: "Part of a suite run: see all its tests" }).click();
  await expect(page).toHaveURL(/\/suite-runs\/[0-9a-f-]{36}$/);
});

test("the server answers the application with a strict Content-Security-Policy", async ({ request }) => {
  const index = await request.get("/runs/some-client-side-route");
  expect(index.status()).toBe(200);
  expect(index.headers()["content-security-policy"]).toContain("script-src 'self'");
  const html = await index.text();
  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  expect(asset).toBeTruthy();
  const script = await request.get(asset!);
  expect(script.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
});

test("single sign-on: to the provider and back (code + PKCE), signed in as its user; sign out ends it", async ({ page }) => {
  const seen: string[] = [];
  page.on("request", (request) => seen.push(request.url()));
  await page.goto("/runs?page=1");
  await expect(page).toHaveURL(/\/sign-in/);
  await page.getByRole("button", { name: "Sign in with single sign-on" }).click();
  // The provider (the local issuer) signs alice in at once and sends the browser back with a one-time code.
  await expect(page.getByRole("heading", { name: "Runs" })).toBeVisible({ timeout: 30_000 });
  expect(new URL(page.url()).pathname).toBe("/runs"); // where the visitor was going, the code gone from the URL
  expect(page.url()).not.toContain("code=");
  const authorize = seen.find((url) => url.includes("/protocol/openid-connect/auth?"));
  expect(authorize).toBeTruthy();
  expect(new URL(authorize!).searchParams.get("code_challenge_method")).toBe("S256");
  await expect(page.getByRole("banner")).toContainText("alice");
  const me = await page.evaluate(async () => {
    const response = await fetch("/api/v1/me", { headers: { Authorization: `Bearer ${sessionStorage.getItem("orchestra.token")}` } });
    return response.json();
  });
  expect([me.name, me.kind, me.role]).toEqual(["alice", "oidc", "admin"]);
  await shot(page, "08-signed-on");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Sign in to Orchestra" })).toBeVisible();
  const logout = seen.find((url) => url.includes("/protocol/openid-connect/logout?")); // ended there too
  expect(new URL(logout!).searchParams.get("id_token_hint")).toBeTruthy();
  const left = await page.evaluate(() => Object.keys(sessionStorage).filter((key) => !key.startsWith("oidc.") || key.includes("user")));
  expect(left).toEqual([]); // no token, no user kept
  await page.goto("/runs");
  await expect(page).toHaveURL(/\/sign-in/);
  const stored = await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith("oidc.")));
  expect(stored).toEqual([]); // nothing of single sign-on outside this tab

  // Sent to sign in with a page elsewhere as the one to go back to: back here, at the overview.
  await page.goto(`/sign-in?next=${encodeURIComponent("//example.com/")}`);
  await page.getByRole("button", { name: "Sign in with single sign-on" }).click();
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible({ timeout: 30_000 });
  expect(new URL(page.url()).pathname).toBe("/");
});
