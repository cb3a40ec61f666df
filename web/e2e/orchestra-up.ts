// Global set-up of the end-to-end tests: `orchestra up` (with the demo SUT and its example suite) as a real
// process, on free loopback ports, with a data directory of its own; torn down after the tests.
// ORCHESTRA_URL and ORCHESTRA_TOKEN (the local admin token it created) are handed to the tests.
// Single sign-on is configured against a local OpenID Connect issuer (tests/integration/oidc_sign_in.py, a
// real process: authorization code + PKCE over HTTP) that signs in "alice", admin of the embedded tenant.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
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

/** The local OpenID Connect issuer, started and asked for its URL (its first line on stdout). */
async function startIssuer(python: string, callback: string, log: string): Promise<{ process: ChildProcess; url: string }> {
  const child = spawn(
    python,
    ["-m", "tests.integration.oidc_sign_in", "--client", "orchestra-web", "--redirect", callback, "--tenant", "default"],
    { cwd: REPO, stdio: ["ignore", "pipe", openSync(log, "w")] },
  );
  const url = await new Promise<string>((done, fail) => {
    let said = "";
    const timer = setTimeout(() => fail(new Error(`the OIDC issuer did not start:\n${readFileSync(log, "utf8")}`)), 60_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      said += chunk.toString();
      const found = /^issuer (\S+)$/m.exec(said);
      if (found?.[1]) {
        clearTimeout(timer);
        done(found[1]);
      }
    });
    child.once("exit", () => fail(new Error(`the OIDC issuer stopped:\n${existsSync(log) ? readFileSync(log, "utf8") : ""}`)));
  });
  return { process: child, url };
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
  const url = `http://127.0.0.1:${port}`;
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ORCHESTRA_")));
  const issuer = await startIssuer(join(dirname(orchestra), "python"), `${url}/auth/callback`, join(dataDir, "issuer.log"));
  const child = spawn(orchestra, ["up", "--port", String(port), "--data-dir", dataDir], {
    cwd: REPO,
    env: {
      ...env,
      ORCHESTRA_AI_PORT: String(await freePort()),
      ORCHESTRA_OIDC_ISSUER: issuer.url,
      ORCHESTRA_OIDC_WEB_CLIENT_ID: "orchestra-web",
      NO_COLOR: "1",
      COLUMNS: "200",
    },
    stdio: ["ignore", openSync(log, "w"), openSync(log, "w")],
  });
  const deadline = Date.now() + 180_000;
  for (;;) {
    const said = readFileSync(log, "utf8").split(/\s+/).join(" ");
    if (said.includes(`${SERVING}${url}`)) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      issuer.process.kill("SIGKILL");
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
    issuer.process.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
  };
}
