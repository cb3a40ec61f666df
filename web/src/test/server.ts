import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";

/** Who is signed in unless a test says otherwise: an editor of every project (the layout asks). */
const signedInEditor = http.get("*/api/v1/me", () =>
  HttpResponse.json({ name: "erin", kind: "oidc", role: "editor", platform_admin: false, project_id: null, manages_tokens: true }),
);

/** No single sign-on configured unless a test says otherwise (the sign-in page asks). */
const tokensOnly = http.get("*/api/v1/auth/options", () => HttpResponse.json({ oidc: null }));

/** The API, as MSW answers it in component tests; each test adds the handlers it needs. */
export const server = setupServer(signedInEditor, tokensOnly);
