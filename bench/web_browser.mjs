// The browser half of bench/web.py: Debian's chromium (through Playwright) signs in with the token, loads
// the run list five times (navigation to the first row shown), then starts the 20-step run and records,
// in the page, the moment each step appears in its timeline. Then a finished run of many steps and a small
// one (the same steps) are opened five times each, alternating (navigation to the first step shown), the
// rows of the big one in the page counted, and the big one's timeline scrolled to its end (scroll to the
// last step painted). Prints one JSON line.
import { createRequire } from "node:module";

const require = createRequire(`${process.cwd()}/package.json`); // run from web/, where Playwright is
const { chromium } = require("@playwright/test");
const url = process.env.ORCHESTRA_URL;
const token = process.env.ORCHESTRA_TOKEN;
const steps = Number(process.env.STEPS);
const bigRun = { id: process.env.BIG_RUN, steps: Number(process.env.BIG_STEPS) };
const smallRun = { id: process.env.SMALL_RUN, steps: Number(process.env.SMALL_STEPS) };
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
  const seen = new Set(); // by step: a virtualised row may be mounted again
  const note = () => {
    for (const item of document.querySelectorAll("main ol > li[data-seq]")) {
      if (!seen.has(item.dataset.seq)) {
        seen.add(item.dataset.seq);
        window.__appeared.push(Date.now());
      }
    }
  };
  note();
  new MutationObserver(note).observe(document.body, { childList: true, subtree: true });
});
await page.waitForFunction((count) => window.__appeared.length >= count, steps, { timeout: 120_000 });
const appeared = await page.evaluate(() => window.__appeared);

const rows = page.locator("main ol[aria-labelledby='steps-heading'] > li");
async function openRun({ id, steps: count }) {
  const started = Date.now();
  await page.goto(`${url}/runs/${id}`);
  await page.getByRole("heading", { name: `Steps (${count})` }).waitFor();
  await rows.first().waitFor();
  return Date.now() - started;
}
const detail = { small: [], big: [] };
for (let load = 0; load < 5; load += 1) {
  detail.small.push(await openRun(smallRun));
  detail.big.push(await openRun(bigRun));
}
const bigRowsShown = await rows.count();
const scrollToEnd = await page.evaluate(async (count) => {
  const list = document.querySelector("main ol[aria-labelledby='steps-heading']");
  const scroller = list.parentElement;
  const frame = () => new Promise((done) => requestAnimationFrame(done));
  const started = performance.now();
  scroller.scrollTop = scroller.scrollHeight;
  for (let frames = 0; !list.querySelector(`li[aria-posinset="${count}"]`) && frames < 600; frames += 1) await frame();
  await frame(); // painted
  return { ms: performance.now() - started, shown: Boolean(list.querySelector(`li[aria-posinset="${count}"]`)) };
}, bigRun.steps);
if (!scrollToEnd.shown) throw new Error("the last step never appeared after scrolling to the end");
const bigRowsAtEnd = await rows.count();
await browser.close();
console.log(
  JSON.stringify({
    run_id: run.id,
    first_render_ms: firstRender,
    appeared,
    detail_small_ms: detail.small,
    detail_big_ms: detail.big,
    big_rows_shown: bigRowsShown,
    big_rows_at_end: bigRowsAtEnd,
    scroll_to_end_ms: scrollToEnd.ms,
  }),
);
