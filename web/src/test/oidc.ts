// A single sign-on provider as MSW answers it in component tests: the API names it (GET /api/v1/auth/options),
// its discovery document, and a token endpoint that checks the PKCE verifier against the challenge the
// browser sent, like a real one. The browser's trips to the provider are recorded instead of made (jsdom does
// not navigate).
import { http, HttpResponse } from "msw";
import { vi } from "vitest";
import { server } from "./server";

export const ISSUER = "https://kc.example.com/realms/orchestra";
export const CLIENT_ID = "orchestra-web";
const ENDPOINTS = {
  authorization_endpoint: `${ISSUER}/protocol/openid-connect/auth`,
  token_endpoint: `${ISSUER}/protocol/openid-connect/token`,
  end_session_endpoint: `${ISSUER}/protocol/openid-connect/logout`,
  jwks_uri: `${ISSUER}/protocol/openid-connect/certs`,
};

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

async function s256(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
}

/** An ID token as the browser sees it (it does not check the signature: the API checks the access token). */
function idToken(): string {
  const part = (value: object) => base64url(new TextEncoder().encode(JSON.stringify(value)));
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: "RS256", typ: "JWT" })}.${part({ iss: ISSUER, aud: CLIENT_ID, sub: "alice-id", iat: now, exp: now + 300 })}.c2ln`;
}

export type Provider = {
  /** Codes handed out by the authorization endpoint, by the challenge they were asked with. */
  grant(code: string, challenge: string): void;
  /** The access tokens issued so far, in order. */
  issued: string[];
  /** The ID token issued with them. */
  idToken: string;
};

/** Single sign-on configured, the provider answering. Access tokens live ``lifetimeS`` seconds; refreshing
 * them is refused when ``refreshes`` is false. */
export function serveProvider({ lifetimeS = 300, refreshes = true } = {}): Provider {
  const challenges = new Map<string, string>();
  const provider: Provider = {
    grant: (code, challenge) => challenges.set(code, challenge),
    issued: [],
    idToken: idToken(),
  };
  const tokens = () => {
    const access = `access-${provider.issued.length + 1}`;
    provider.issued.push(access);
    return HttpResponse.json({
      access_token: access,
      token_type: "Bearer",
      expires_in: lifetimeS,
      refresh_token: `refresh-${provider.issued.length}`,
      id_token: provider.idToken,
      scope: "openid",
    });
  };
  server.use(
    http.get("*/api/v1/auth/options", () =>
      HttpResponse.json({ oidc: { issuer: ISSUER, client_id: CLIENT_ID, scope: "openid" } }),
    ),
    http.get(`${ISSUER}/.well-known/openid-configuration`, () => HttpResponse.json({ issuer: ISSUER, ...ENDPOINTS })),
    http.post(ENDPOINTS.token_endpoint, async ({ request }) => {
      const form = new URLSearchParams(await request.text());
      if (form.get("client_id") !== CLIENT_ID) return HttpResponse.json({ error: "invalid_client" }, { status: 401 });
      if (form.get("grant_type") === "refresh_token") {
        return refreshes ? tokens() : HttpResponse.json({ error: "invalid_grant" }, { status: 400 });
      }
      const challenge = challenges.get(form.get("code") ?? "");
      challenges.delete(form.get("code") ?? ""); // a code is used once
      const verified = challenge !== undefined && (await s256(form.get("code_verifier") ?? "")) === challenge;
      if (form.get("grant_type") !== "authorization_code" || !verified) {
        return HttpResponse.json({ error: "invalid_grant" }, { status: 400 });
      }
      return tokens();
    }),
  );
  return provider;
}

/** Where the page was sent (``location.assign``), recorded instead of followed; the rest of ``location`` is
 * this page's. */
export function recordNavigation(): { to: () => URL[] } {
  const real = window.location;
  const to: URL[] = [];
  const page = {
    href: real.href,
    origin: real.origin,
    protocol: real.protocol,
    host: real.host,
    hostname: real.hostname,
    port: real.port,
    pathname: real.pathname,
    search: real.search,
    hash: real.hash,
    assign: (url: string) => to.push(new URL(url)),
    replace: (url: string) => to.push(new URL(url)),
    reload: () => undefined,
  };
  vi.spyOn(window, "location", "get").mockReturnValue(page as unknown as Location);
  return { to: () => to };
}

/** This page's address (jsdom moves there without loading anything), as when the provider sends it back. */
export function arriveAt(url: string): void {
  window.history.replaceState(null, "", url);
}
