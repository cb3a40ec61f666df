// The one API client: typed from the API's OpenAPI document (schema.d.ts, `npm run gen:api`).
import createClient, { type Middleware } from "openapi-fetch";
import { session } from "@/shared/auth/session";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];

/** An RFC 9457 problem the API answered with (or a failure to reach it). */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const authorize: Middleware = {
  onRequest({ request }) {
    const token = session.accessToken();
    if (token && !request.headers.has("Authorization")) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ request, response }) {
    // The token we sent was refused (revoked, expired): back to the sign-in page.
    if (response.status === 401 && request.headers.get("Authorization") === `Bearer ${session.accessToken()}`) {
      session.signOut();
    }
    return response;
  },
};

export const api = createClient<paths>({
  baseUrl: globalThis.location?.origin ?? "",
  fetch: (request) => globalThis.fetch(request), // looked up per call, so tests can intercept it
});
api.use(authorize);

function problemMessage(error: unknown, fallback: string): string {
  if (error && typeof error === "object" && "detail" in error && typeof error.detail === "string") {
    return error.detail;
  }
  return fallback;
}

/** The data of an openapi-fetch answer, or an ApiError carrying the problem's detail. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (error !== undefined || data === undefined) {
    throw new ApiError(response.status, problemMessage(error, `${response.status} ${response.statusText}`));
  }
  return data;
}
