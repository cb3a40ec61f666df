// Global set-up of the end-to-end tests: `orchestra up` (with the demo SUT and its example suite) as a real
// process, on free loopback ports, with a data directory of its own; torn down after the tests.
// ORCHESTRA_URL and ORCHESTRA_TOKEN (the local admin token it created) are handed to the tests.
// Single sign-on is configured against a local OpenID Connect issuer (tests/integration/oidc_sign_in.py, a
// real process: authorization code + PKCE over HTTP) that signs in "alice", admin of the embedded tenant.
// In front of it, Debian's Nginx with the production configuration of deploy/nginx/ (tests/e2e/nginx_front.py:
// its own prefix, a free port, the foreground) serves the built application and proxies /api to that API:
// ORCHESTRA_NGINX_URL for the "nginx" project, or ORCHESTRA_NGINX_MISSING saying why it could not start.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
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

/** A child process and the first line matching ``pattern`` on its stdout (its group 1), or its failure. */
function announced(child: ChildProcess, pattern: RegExp, what: string, log: string): Promise<string> {
  return new Promise<string>((done, fail) => {
    let said = "";
    const output = () => (existsSync(log) ? readFileSync(log, "utf8") : "");
    const timer = setTimeout(() => fail(new Error(`${what} did not start:\n${output()}`)), 60_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      said += chunk.toString();
      const found = pattern.exec(said);
      if (found?.[1]) {
        clearTimeout(timer);
        done(found[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(Object.assign(new Error(`${what} stopped (exit ${code}):\n${output()}`), { code }));
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
  const url = await announced(child, /^issuer (\S+)$/m, "the OIDC issuer", log);
  return { process: child, url };
}

/** Nginx with deploy/nginx/ in front of the API at ``api`` (host:port); undefined when Nginx is not
 * installed (ORCHESTRA_NGINX_MISSING says so). */
async function startNginx(python: string, api: string, connectSrc: string, prefix: string): Promise<ChildProcess | undefined> {
  const log = join(prefix, "front.log");
  const port = await freePort();
  const child = spawn(
    python,
    ["-m", "tests.e2e.nginx_front", "--api", api, "--port", String(port), "--prefix", prefix, "--connect-src", connectSrc],
    { cwd: REPO, stdio: ["ignore", "pipe", openSync(log, "w")] },
  );
  try {
    process.env.ORCHESTRA_NGINX_URL = await announced(child, /^nginx (\S+)$/m, "nginx", log);
    return child;
  } catch (error) {
    if ((error as { code?: number }).code === 3) {
      process.env.ORCHESTRA_NGINX_MISSING = readFileSync(log, "utf8").trim();
      return undefined;
    }
    throw error;
  }
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
  const python = join(dirname(orchestra), "python");
  const metricsToken = randomBytes(16).toString("hex");
  const issuer = await startIssuer(python, `${url}/auth/callback`, join(dataDir, "issuer.log"));
  const child = spawn(orchestra, ["up", "--port", String(port), "--data-dir", dataDir], {
    cwd: REPO,
    env: {
      ...env,
      ORCHESTRA_AI_PORT: String(await freePort()),
      ORCHESTRA_OIDC_ISSUER: issuer.url,
      ORCHESTRA_OIDC_WEB_CLIENT_ID: "orchestra-web",
      ORCHESTRA_METRICS_TOKEN: metricsToken, // its /metrics served (to the nginx spec, which finds it unreachable there)
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
  process.env.ORCHESTRA_METRICS_TOKEN = metricsToken;
  let nginx: ChildProcess | undefined;
  const nginxPrefix = mkdtempSync(join(tmpdir(), "orchestra-web-nginx-")); // apart from the data directory
  try {
    nginx = await startNginx(python, `127.0.0.1:${port}`, new URL(issuer.url).origin, nginxPrefix);
  } catch (error) {
    child.kill("SIGKILL");
    issuer.process.kill("SIGKILL");
    throw error;
  }

  return async () => {
    if (nginx && nginx.exitCode === null) {
      const ended = new Promise((done) => nginx.once("exit", done));
      nginx.kill("SIGTERM");
      await ended;
    }
    const stopped = new Promise((done) => child.once("exit", done));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await stopped;
    clearTimeout(timer);
    issuer.process.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(nginxPrefix, { recursive: true, force: true });
  };
}
