// The web application in production: Debian's Nginx with the configuration of deploy/nginx/ serves the built
// application and proxies /api to the API (started by e2e/orchestra-up.ts). Through Nginx only: sign in with
// the local token, run a test against the demo SUT and watch its steps arrive live over Server-Sent Events
// until the verdict, reload a client-side route (the fallback to index.html); Nginx answers with the same
// security and cache headers as `orchestra up`, keeps /metrics unreachable and the API's body limit, and
// passes event streams as they come (neither buffered nor compressed). Screenshots go to web/artifacts/screenshots/.
import { existsSync } from "node:fs";
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { CHROMIUM } from "../playwright.config";

const NGINX = process.env.ORCHESTRA_NGINX_URL;
const MISSING = process.env.ORCHESTRA_NGINX_MISSING ?? "nginx did not start";

test.skip(!existsSync(CHROMIUM), `Debian's chromium is not at ${CHROMIUM} (apt-get install -y chromium)`);
// Where CI installs it (`make nginx`), a missing Nginx fails the tests instead.
test.skip(!NGINX && !process.env.CI, MISSING);
test.describe.configure({ mode: "serial" });
test.use({ viewport: { width: 1280, height: 900 } });

const SHOTS = "artifacts/screenshots";
const PROJECT = "nginx-e2e";
const TEST = "pause-between-checks";
const SECURITY = ["content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options"];
const EVENTS = /^\/api\/v1\/runs\/[0-9a-f-]{36}\/events$/;
const auth = () => ({ Authorization: `Bearer ${process.env.ORCHESTRA_TOKEN ?? ""}` });
const direct = (path: string) => `${process.env.ORCHESTRA_URL}${path}`; // `orchestra up` itself, not Nginx

async function call(request: APIRequestContext, method: "GET" | "POST", path: string, data?: unknown) {
  const response = await request.fetch(`/api/v1${path}`, { method, headers: auth(), ...(data ? { data } : {}) });
  expect(response.ok(), `${method} ${path}: ${response.status()} ${await response.text()}`).toBe(true);
  return response.json();
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

test.beforeAll(async ({ request }) => {
  expect(NGINX, MISSING).toBeTruthy();
  // Through Nginx: a project of its own with a test that pauses between two checks of the demo SUT.
  const demo = await call(request, "GET", "/projects/examples/environments/demo");
  await call(request, "POST", "/projects", { name: PROJECT });
  await call(request, "POST", `/projects/${PROJECT}/environments`, {
    name: "sut",
    base_url: demo.base_url,
    allow_private_network: true,
  });
  const health = (name: string) => ({ name, request: { url: "{{ env.base_url }}/health" }, expect: { status: 200 } });
  await call(request, "POST", `/projects/${PROJECT}/apply`, {
    test_cases: [
      {
        name: TEST,
        steps: [health("the demo answers"), { name: "a pause of four seconds", sleep: "4s" }, health("it still answers")],
      },
    ],
  });
});

test("through Nginx: sign in, run a test and watch it live to its verdict, reload a deep link", async ({ page }) => {
  const consoleErrors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  const documents: string[] = [];
  page.on("response", (response) => {
    if (response.request().resourceType() === "document") documents.push(response.url());
  });

  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in\b/);
  await expect(page.getByRole("heading", { name: "Sign in to Orchestra" })).toBeVisible();
  await shot(page, "30-nginx-sign-in");
  await page.getByLabel("Token").fill(process.env.ORCHESTRA_TOKEN ?? "");
  await page.getByLabel("Token").press("Enter");
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Test cases" }).click();
  await page.getByLabel("Project").selectOption(PROJECT);
  await page.getByRole("link", { name: TEST, exact: true }).click();
  await expect(page.getByRole("heading", { name: TEST })).toBeVisible();
  await page.getByLabel("Environment").selectOption("sut");

  // The run's page follows it over Server-Sent Events, through Nginx.
  const stream = page.waitForResponse((response) => EVENTS.test(new URL(response.url()).pathname));
  await page.getByRole("button", { name: "Run now" }).click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  const events = await stream;
  expect(new URL(events.url()).origin).toBe(NGINX);
  expect(events.status()).toBe(200);
  const headers = events.headers();
  expect(headers["content-type"]).toContain("text/event-stream");
  expect(headers["content-encoding"]).toBeUndefined(); // never compressed (it would be held back)
  expect(headers["x-accel-buffering"]).toBeUndefined(); // the API's hint, taken by Nginx

  // Live: the first step is there while the run pauses, the last one not yet; then the verdict.
  const steps = page.locator("details");
  await expect(page.getByText("live: steps appear as they are committed")).toBeVisible();
  await expect(page.getByText("IN PROGRESS", { exact: true })).toBeVisible();
  await expect(steps.filter({ hasText: "the demo answers" })).toBeVisible();
  await expect(steps.filter({ hasText: "it still answers" })).toHaveCount(0);
  await shot(page, "31-nginx-run-live");
  await expect(page.locator("main").getByText("PASSED", { exact: true }).first()).toBeVisible({ timeout: 30_000 });
  await expect(steps.filter({ hasText: "it still answers" })).toBeVisible();
  await expect(steps).toHaveCount(3);
  await shot(page, "32-nginx-run-passed");

  // A client-side route, reloaded: Nginx answers index.html, never cached, and the application shows the run.
  const runUrl = page.url();
  const reloaded = await page.reload();
  expect(reloaded?.status()).toBe(200);
  expect(reloaded?.headers()["cache-control"]).toBe("no-cache");
  expect(reloaded?.headers()["server"]).toBe("nginx"); // Nginx's own answer, not the API's serving of it
  await expect(page).toHaveURL(runUrl);
  await expect(page.getByRole("heading", { name: TEST })).toBeVisible();
  await expect(page.locator("main").getByText("PASSED", { exact: true }).first()).toBeVisible();
  await expect(steps).toHaveCount(3);

  expect(documents.every((url) => url.startsWith(`${NGINX}/`))).toBe(true);
  expect(consoleErrors.filter((text) => !text.includes("401"))).toEqual([]);
});

test("Nginx answers as `orchestra up` does: security and cache headers; /metrics unreachable", async ({ request }) => {
  // A client-side route: index.html, with exactly the headers `orchestra up` sends (its CSP names the single
  // sign-on issuer's origin in connect-src, as Nginx was told).
  const route = "/runs/a-client-side-route";
  const [proxied, own] = [await request.get(route), await request.get(direct(route))];
  expect(proxied.status()).toBe(200);
  expect(proxied.headers()["content-type"]).toContain("text/html");
  expect(proxied.headers()["server"]).toBe("nginx");
  for (const name of [...SECURITY, "cache-control"]) {
    expect(proxied.headers()[name], name).toBe(own.headers()[name]);
  }
  expect(proxied.headers()["content-security-policy"]).toMatch(/connect-src 'self' http:\/\/127\.0\.0\.1:\d+;/);
  expect(await proxied.text()).toBe(await own.text());

  // A hashed asset: cached for a year, compressed, with the same security headers; a missing one is a 404
  // that is not cached and is not the application.
  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(await proxied.text())?.[1];
  expect(asset).toBeTruthy();
  const [script, ownScript] = [
    await request.get(asset!, { headers: { "Accept-Encoding": "gzip" } }),
    await request.get(direct(asset!)),
  ];
  expect(script.status()).toBe(200);
  expect(script.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
  expect(script.headers()["content-encoding"]).toBe("gzip");
  for (const name of [...SECURITY, "cache-control"]) expect(script.headers()[name], name).toBe(ownScript.headers()[name]);
  const missing = await request.get("/assets/not-a-build-file.js");
  expect(missing.status()).toBe(404);
  expect(missing.headers()["cache-control"]).toBeUndefined();
  expect(missing.headers()["content-security-policy"]).toBe(proxied.headers()["content-security-policy"]);
  expect(await missing.text()).not.toContain('id="root"');

  // /metrics is the API's, for Prometheus on its own port (behind its token): never reachable through Nginx.
  const scraper = { Authorization: `Bearer ${process.env.ORCHESTRA_METRICS_TOKEN ?? ""}` };
  const scraped = await request.get(direct("/metrics"), { headers: scraper });
  expect(scraped.status()).toBe(200);
  expect(await scraped.text()).toContain("orchestra_");
  for (const path of ["/metrics", "/metrics?format=prometheus"]) {
    const metrics = await request.get(path, { headers: scraper });
    expect(metrics.status(), path).toBe(404);
    expect(await metrics.text()).not.toContain("orchestra_");
  }

  // The API behind /api: its answers and its problems.
  expect((await request.get("/api/v1/health/ready")).status()).toBe(200);
  const refused = await request.get("/api/v1/projects");
  expect(refused.status()).toBe(401);
  expect(refused.headers()["content-type"]).toContain("application/problem+json");
  const unknown = await request.get("/api/v1/no-such-route", { headers: auth() });
  expect(unknown.status()).toBe(404);
  expect(unknown.headers()["content-type"]).toContain("application/problem+json");
  const listed = await request.get(`/api/v1/runs?project=${PROJECT}`, { headers: { ...auth(), "Accept-Encoding": "gzip" } });
  expect(listed.status()).toBe(200);
  expect(listed.headers()["cache-control"]).toBe((await request.get(direct(`/api/v1/runs?project=${PROJECT}`), { headers: auth() })).headers()["cache-control"]);
});

test("Nginx keeps the API's body limit", async ({ request }) => {
  // One byte over the API's 2 MiB: refused by Nginx with the API's own problem; at the limit, it reaches the API.
  const limit = 2 * 1024 * 1024;
  const body = (size: number) => `{"name": "${"x".repeat(size - 12)}"}`;
  expect(body(limit).length).toBe(limit);
  const headers = { ...auth(), "Content-Type": "application/json" };
  const over = await request.post("/api/v1/projects", { headers, data: body(limit + 1) });
  const ownOver = await request.post(direct("/api/v1/projects"), { headers, data: body(limit + 1) });
  expect(over.status()).toBe(413);
  expect(over.headers()["content-type"]).toContain("application/problem+json");
  expect(await over.json()).toEqual(await ownOver.json());
  const at = await request.post("/api/v1/projects", { headers, data: body(limit) });
  expect(at.status()).toBe(422); // the API's answer: a name that long is not a name
  expect(at.headers()["content-type"]).toContain("application/problem+json");
});

test("Nginx passes a run's events as they come: neither buffered nor compressed", async ({ request }) => {
  // A run that pauses four seconds between its checks, followed from its start by a streaming client asking
  // for compression: its first step arrives seconds before the stream's end, as plain text/event-stream.
  const run = await call(request, "POST", "/runs", { project: PROJECT, environment: "sut", test_case: TEST });
  const started = Date.now();
  const response = await fetch(`${NGINX}/api/v1/runs/${run.id}/events`, {
    headers: { ...auth(), "Accept-Encoding": "gzip" },
  });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  expect(response.headers.get("content-encoding")).toBeNull();
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const seen: Record<string, number> = {};
  while (!text.includes("event: end")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
    const steps = text.match(/^event: step$/gm)?.length ?? 0;
    seen[`steps ${steps}`] ??= Date.now() - started;
  }
  seen.end = Date.now() - started;
  expect(text.match(/^event: step$/gm)).toHaveLength(3);
  expect(text).toMatch(/event: end\ndata: \{[^\n]*"PASSED"/);
  // the first step (before the pause) was received well before the end (after it); buffered, they come together
  expect(seen.end - seen["steps 1"]!, JSON.stringify(seen)).toBeGreaterThan(2_500);
});
