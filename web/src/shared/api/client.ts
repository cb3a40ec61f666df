// The one API client: typed from the API's OpenAPI document (schema.d.ts, `npm run gen:api`).
import createClient, { type Middleware } from "openapi-fetch";
import { session } from "@/shared/auth/session";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];

/** One entry of a problem's ``errors``: where in the request (``base_url``, ``secrets.token``) and what. */
export type ProblemItem = { location: string; message: string };

/** An RFC 9457 problem the API answered with (or a failure to reach it). */
export class ApiError extends Error {
  readonly status: number;
  readonly errors: ProblemItem[];
  constructor(status: number, message: string, errors: ProblemItem[] = []) {
    super(message);
    this.status = status;
    this.errors = errors;
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

function problemItems(error: unknown): ProblemItem[] {
  if (!error || typeof error !== "object" || !("errors" in error) || !Array.isArray(error.errors)) return [];
  return error.errors.flatMap((item: unknown) =>
    item && typeof item === "object" && "location" in item && "message" in item
      ? [{ location: String(item.location), message: String(item.message) }]
      : [],
  );
}

/** The data of an openapi-fetch answer, or an ApiError carrying the problem's detail (and its errors). */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (error !== undefined || (data === undefined && response.status !== 204)) {
    const message = problemMessage(error, `${response.status} ${response.statusText}`);
    throw new ApiError(response.status, message, problemItems(error));
  }
  return data as T;
}
