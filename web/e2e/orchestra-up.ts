// Global set-up of the end-to-end tests: `orchestra up` (with the demo SUT and its example suite) as a real
// process, on free loopback ports, with a data directory of its own; torn down after the tests.
// ORCHESTRA_URL and ORCHESTRA_TOKEN (the local admin token it created) are handed to the tests.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CHROMIUM } from "../playwright.config";

const REPO = resolve(import.meta.dirname, "..", "..");
const SERVING = "Orchestra is serving on ";

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export default async function orchestraUp(): Promise<(() => Promise<void>) | undefined> {
  if (!existsSync(CHROMIUM)) return undefined; // the specs skip, saying why
  if (!existsSync(join(REPO, "src", "orchestra", "web_dist", "index.html"))) {
    throw new Error("the web application is not built: run `npm run build` in web/ (or `make web`)");
  }
  const orchestra = process.env.ORCHESTRA_BIN ?? join(REPO, ".venv", "bin", "orchestra");
  const dataDir = mkdtempSync(join(tmpdir(), "orchestra-web-e2e-"));
  const log = join(dataDir, "up.log");
  const port = await freePort();
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ORCHESTRA_")));
  const child = spawn(orchestra, ["up", "--port", String(port), "--data-dir", dataDir], {
    cwd: REPO,
    env: { ...env, ORCHESTRA_AI_PORT: String(await freePort()), NO_COLOR: "1", COLUMNS: "200" },
    stdio: ["ignore", openSync(log, "w"), openSync(log, "w")],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  for (;;) {
    const said = readFileSync(log, "utf8").split(/\s+/).join(" ");
    if (said.includes(`${SERVING}${url}`)) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`orchestra up did not start:\n${readFileSync(log, "utf8")}`);
    }
    await new Promise((wait) => setTimeout(wait, 250));
  }
  process.env.ORCHESTRA_URL = url;
  process.env.ORCHESTRA_TOKEN = readFileSync(join(dataDir, "admin-token"), "utf8").trim();

  return async () => {
    const stopped = new Promise((done) => child.once("exit", done));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await stopped;
    clearTimeout(timer);
    rmSync(dataDir, { recursive: true, force: true });
  };
}
