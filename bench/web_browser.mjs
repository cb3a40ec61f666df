// The browser half of bench/web.py: Debian's chromium (through Playwright) signs in with the token, loads
// the run list five times (navigation to the first row shown), then starts the 20-step run and records,
// in the page, the moment each step appears in its timeline. Prints one JSON line.
import { createRequire } from "node:module";

const require = createRequire(`${process.cwd()}/package.json`); // run from web/, where Playwright is
const { chromium } = require("@playwright/test");
const url = process.env.ORCHESTRA_URL;
const token = process.env.ORCHESTRA_TOKEN;
const steps = Number(process.env.STEPS);
const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
const page = await browser.newPage();
await page.goto(`${url}/sign-in`);
await page.getByLabel("Token").fill(token);
await page.getByRole("button", { name: "Sign in", exact: true }).click();
await page.getByRole("heading", { name: "Overview" }).waitFor();

const firstRender = [];
for (let load = 0; load < 5; load += 1) {
  const started = Date.now();
  await page.goto(`${url}/runs?page=1`);
  await page.locator("table tbody tr").first().waitFor();
  firstRender.push(Date.now() - started);
}

const created = await fetch(`${url}/api/v1/runs`, {
  method: "POST",
  headers,
  body: JSON.stringify({ project: "examples", environment: "demo", test_case: "bench-timeline" }),
});
const run = await created.json();
await page.goto(`${url}/runs/${run.id}`);
await page.evaluate(() => {
  window.__appeared = [];
  const seen = new Set();
  const note = () => {
    for (const item of document.querySelectorAll("main ol > li")) {
      if (!seen.has(item)) {
        seen.add(item);
        window.__appeared.push(Date.now());
      }
    }
  };
  note();
  new MutationObserver(note).observe(document.body, { childList: true, subtree: true });
});
await page.waitForFunction((count) => window.__appeared.length >= count, steps, { timeout: 120_000 });
const appeared = await page.evaluate(() => window.__appeared);
await browser.close();
console.log(JSON.stringify({ run_id: run.id, first_render_ms: firstRender, appeared }));
