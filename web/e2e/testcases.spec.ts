// Test cases and suites against a real `orchestra up` with the demo: the list with last verdicts, writing a
// test case with a schema error (seen at its line), a problem only the API finds (seen at its line after
// saving), fixing and saving it, running it and watching it pass, a second version and the diff, download
// and upload of YAML files, suites and their members, and what a viewer sees. Every screen is checked with
// axe (no serious or critical violation) and photographed, in the light and the dark theme.
import { existsSync, readFileSync } from "node:fs";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { CHROMIUM } from "../playwright.config";

test.skip(!existsSync(CHROMIUM), `Debian's chromium is not at ${CHROMIUM} (apt-get install -y chromium)`);

const SHOTS = "artifacts/screenshots";
const NAME = "e2e-health";

async function shot(page: Page, name: string) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

/** No serious or critical accessibility violation on the screen as it is now. */
async function accessible(page: Page) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
  expect(bad.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`)).toEqual([]);
}

async function signIn(page: Page, token: string) {
  await page.goto("/");
  await page.getByLabel("Token").fill(token);
  await page.getByLabel("Token").press("Enter");
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
}

/** Paste ``text`` at the cursor of the focused editor (as a person pastes: spaces stay spaces). */
async function paste(page: Page, text: string) {
  await page.locator(".cm-content").evaluate((content, pasted) => {
    const data = new DataTransfer();
    data.setData("text/plain", pasted);
    content.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }, text);
}

/** Replace the editor's text. */
async function writeYaml(page: Page, text: string) {
  await page.locator(".cm-content").click();
  await page.keyboard.press("Control+A");
  await paste(page, text);
}

function yaml(expectBlock: string) {
  return `name: ${NAME}
description: the demo answers its health check
tags: [e2e]
steps:
  - name: the service answers
    request:
      method: GET
      url: "{{ env.base_url }}/health"
${expectBlock}`;
}

const problems = (page: Page) => page.locator("section[aria-labelledby=problems-heading]");

test("write a test case, see its problems at their lines, save, run, compare versions", async ({ page }) => {
  const consoleErrors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  await signIn(page, process.env.ORCHESTRA_TOKEN ?? "");

  // The list, with the demo's verdicts.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Test cases" }).click();
  // the first project is shown (other specs add projects): the demo's is chosen
  await page.getByLabel("Project").selectOption("examples");
  await expect(page).toHaveURL(/\/test-cases\?.*project=examples/);
  const health = page.getByRole("row").filter({ has: page.getByRole("link", { name: "health", exact: true }) });
  await expect(health.getByText("PASSED", { exact: true })).toBeVisible();
  await expect(page.getByRole("row").filter({ hasText: "expected-failure-wrong-value" }).getByText("FAILED", { exact: true })).toBeVisible();
  await accessible(page);
  await shot(page, "10-test-cases");

  // A schema problem, marked at its line as it is typed; saving waits for the fix.
  await page.getByRole("link", { name: "New test case" }).click();
  await expect(page.getByRole("heading", { name: "New test case in examples" })).toBeVisible();
  await expect(page.locator(".cm-content")).toBeVisible();
  await writeYaml(page, yaml("    expect:\n      statuz: 200\n"));
  const listed = problems(page);
  await expect(listed.getByRole("button", { name: /Line 10, column 7: unknown key 'statuz'/ })).toBeVisible();
  await expect(page.locator(".cm-line").nth(9).locator(".cm-lintRange-error")).toHaveText("statuz");
  await expect(page.getByRole("button", { name: "Create" })).toBeDisabled();
  await accessible(page);
  await shot(page, "11-editor-schema-error");

  // A problem only the API finds (an invalid regular expression), shown at its line after saving.
  await writeYaml(page, yaml('    expect:\n      status: 200\n      json:\n        $.status: { matches: "(" }\n'));
  await expect(listed.getByRole("heading", { name: "No problems found" })).toBeVisible();
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByRole("alert")).toContainText("Not saved");
  const fromServer = listed.getByRole("button", { name: /Line 12, column \d+: .*\(from the server, on saving\)/ });
  await expect(fromServer).toBeVisible();
  await expect(page.locator(".cm-line").nth(11).locator(".cm-lintRange-error")).toBeVisible();
  await shot(page, "12-editor-server-error");

  // Fixed, saved: the test case's page.
  await writeYaml(page, yaml('    expect:\n      status: 200\n      json:\n        $.status: { matches: "^ok$" }\n'));
  await expect(listed.getByRole("heading", { name: "No problems found" })).toBeVisible();
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByRole("heading", { name: NAME })).toBeVisible();
  await expect(page.getByText("Version 1", { exact: false }).first()).toBeVisible();

  // Run it against the demo environment; the run's page follows it to its verdict.
  await page.getByLabel("Environment").selectOption("demo");
  await page.getByRole("button", { name: "Run now" }).click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name: NAME })).toBeVisible();
  await expect(page.locator("main").getByText("PASSED", { exact: true }).first()).toBeVisible({ timeout: 30_000 });
  await shot(page, "13-run-passed");

  // A second version, and the two compared.
  await page.goto(`/test-cases/examples/${NAME}`);
  await expect(page.locator(".cm-content")).toContainText("the demo answers its health check");
  const description = page.locator(".cm-line").nth(1);
  await description.click();
  await page.keyboard.press("End");
  await paste(page, ", quickly");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Saved as version 2.")).toBeVisible();
  await accessible(page);
  await shot(page, "14-editor-saved");

  await page.getByRole("tab", { name: "Versions" }).click();
  await expect(page).toHaveURL(/tab=history/);
  await expect(page.getByRole("heading", { name: "Version 1 compared with version 2" })).toBeVisible();
  const merge = page.locator(".cm-mergeView");
  await expect(merge.locator(".cm-changedLine").filter({ hasText: "quickly" })).toBeVisible();
  await expect(merge.locator(".cm-changedLine").filter({ hasText: "health check" }).first()).toBeVisible();
  await expect(page.getByRole("row").filter({ hasText: "v2" }).getByText("current")).toBeVisible();
  await expect(merge.getByText("unchanged lines").first()).toBeVisible();
  await page.getByRole("button", { name: "Show unchanged lines" }).press("Enter"); // the keyboard unfolds them
  await expect(merge.getByText("unchanged lines")).toHaveCount(0);
  await expect(merge.getByText("matches: ^ok$").first()).toBeVisible();
  await accessible(page);
  await shot(page, "15-history-diff");

  // The list shows the new test case with its verdict.
  await page.goto("/test-cases?project=examples");
  const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: NAME, exact: true }) });
  await expect(row.getByText("PASSED", { exact: true })).toBeVisible();
  await expect(row.getByText("v2", { exact: true })).toBeVisible();

  // Dark theme: the editor with a problem, and the diff.
  await page.getByRole("button", { name: "Switch to the dark theme" }).click();
  await expect(page.locator("html")).toHaveClass(/dark/);
  await accessible(page);
  await shot(page, "16-test-cases-dark");
  await page.goto(`/test-cases/examples/${NAME}?tab=history`);
  await expect(page.locator(".cm-mergeView")).toBeVisible();
  await accessible(page);
  await shot(page, "17-history-diff-dark");
  await page.getByRole("tab", { name: "Edit" }).click();
  await page.locator(".cm-line").nth(0).click();
  await page.keyboard.press("End");
  await paste(page, "\nretries: 3");
  await expect(problems(page).getByRole("button", { name: /Line 2, column 1: unknown key 'retries'/ })).toBeVisible();
  await accessible(page);
  await shot(page, "18-editor-dark");

  // The keyboard leaves the editor: Escape, then Tab.
  await page.keyboard.press("Escape");
  await page.keyboard.press("Tab");
  expect(await page.evaluate(() => document.activeElement?.closest(".cm-editor") === null)).toBe(true);

  // The refused save (422) is logged by the browser; no other error, and no refusal by the Content-Security-Policy.
  expect(consoleErrors.filter((text) => !text.includes("422"))).toEqual([]);
});

test("download and upload YAML files, suites and their members", async ({ page }) => {
  await signIn(page, process.env.ORCHESTRA_TOKEN ?? "");

  // Download: the file `orchestra apply` takes.
  await page.goto("/test-cases/examples/health");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download YAML" }).click()]);
  expect(download.suggestedFilename()).toBe("health.yaml");
  const text = readFileSync((await download.path())!, "utf8");
  expect(text).toMatch(/^name: health\n/);
  expect(text).toContain("steps:\n  - name:");

  // Upload: a broken file is refused with its line; then a test case and a suite that lists it.
  await page.goto("/test-cases?project=examples");
  const input = page.getByLabel("YAML files to upload");
  const file = (name: string, content: string) => ({ name, mimeType: "application/yaml", buffer: Buffer.from(content) });
  await input.setInputFiles([file("broken.yaml", "name: uploaded-check\nsteps:\n  - request: {url: x}\n    expect: {status: nope}\n")]);
  await expect(page.getByRole("alert")).toContainText("Nothing was applied");
  await expect(page.getByRole("alert")).toContainText("broken.yaml:4:");
  await shot(page, "19-upload-refused");
  const uploaded = 'name: uploaded-check\nsteps:\n  - request:\n      url: "{{ env.base_url }}/health"\n    expect: {status: 200}\n';
  const suite = "suite: uploaded\ndescription: one uploaded test\ntests:\n  - uploaded-check\n";
  await input.setInputFiles([file("uploaded-suite.yaml", suite), file("uploaded-check.yaml", uploaded)]);
  await expect(page.getByText("Applied 1 test case (1 created or changed) and 1 suite (1 created or changed).")).toBeVisible();
  await expect(page.getByRole("link", { name: "uploaded-check", exact: true })).toBeVisible();
  await accessible(page);

  // Suites, and one suite's members with their verdicts.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Suites" }).click();
  await page.getByLabel("Project").selectOption("examples");
  await expect(page.getByRole("link", { name: "demo", exact: true })).toBeVisible();
  await accessible(page);
  await shot(page, "20-suites");
  await page.getByRole("link", { name: "demo", exact: true }).click();
  await expect(page.getByRole("heading", { name: /Test cases \(\d+\)/ })).toBeVisible();
  await expect(page.getByText("every test case of the project")).toBeVisible();
  await expect(page.getByRole("link", { name: "Last run of health: passed" })).toBeVisible();
  await accessible(page);
  await shot(page, "21-suite-members");
  const [suiteFile] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download YAML" }).click()]);
  expect(readFileSync((await suiteFile.path())!, "utf8")).toContain("suite: demo\n");
});

test("a viewer reads test cases but is offered no way to change them", async ({ page, request }) => {
  const created = await request.post("/api/v1/tokens", {
    headers: { Authorization: `Bearer ${process.env.ORCHESTRA_TOKEN}` },
    data: { name: "e2e viewer", role: "viewer" },
  });
  expect(created.status()).toBe(201);
  const { token } = (await created.json()) as { token: string };
  await signIn(page, token);
  await page.goto("/test-cases?project=examples");
  await expect(page.getByRole("link", { name: "health", exact: true })).toBeVisible();
  await expect(page.getByRole("link", { name: "New test case" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Upload YAML files" })).toHaveCount(0);
  await page.getByRole("link", { name: "health", exact: true }).click();
  await expect(page.locator(".cm-content")).toHaveAttribute("aria-readonly", "true");
  await expect(page.getByRole("button", { name: "Save" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Run now" })).toHaveCount(0);
  await expect(page.getByText("saving needs the editor role")).toBeVisible();
  await accessible(page);
  await shot(page, "22-viewer");
  // The API is the enforcer: the same save, sent anyway, is refused.
  const refused = await request.put("/api/v1/projects/examples/test-cases/health/yaml", {
    headers: { Authorization: `Bearer ${token}` },
    data: { content: "name: health\nsteps:\n  - request: {url: x}\n" },
  });
  expect(refused.status()).toBe(403);
});
