import { defineConfig } from "@playwright/test";

// Debian's chromium (apt-get install -y chromium, done by `make install`), never a downloaded browser.
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: "e2e",
  globalSetup: "./e2e/orchestra-up.ts", // a real `orchestra up` with the demo, on free ports
  // A long scenario takes ~30 s on a quiet machine; a CI machine under load has taken twice that.
  timeout: 150_000,
  expect: { timeout: 15_000 },
  workers: 1,
  reporter: [["list"]],
  outputDir: "test-results",
  // The application as `orchestra up` serves it; and the same API behind Debian's Nginx with the production
  // configuration of deploy/nginx/, which serves the application itself (e2e/nginx.spec.ts).
  projects: [
    { name: "orchestra-up", testIgnore: /nginx\.spec\.ts$/ },
    { name: "nginx", testMatch: /nginx\.spec\.ts$/, use: { baseURL: process.env.ORCHESTRA_NGINX_URL } },
  ],
  use: {
    baseURL: process.env.ORCHESTRA_URL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
