import { ApiError } from "@/shared/api/client";

/** One problem of a definition, as the API reports it: line and column are 1-based, null when unknown. */
export type DefinitionIssue = {
  file?: string | null;
  path: string;
  line: number | null;
  column: number | null;
  message: string;
};

/** A refusal of the API (problem+json) with the problems of a definition, when it listed them. */
export class DefinitionProblem extends ApiError {
  readonly issues: DefinitionIssue[];
  constructor(status: number, message: string, issues: DefinitionIssue[]) {
    super(status, message);
    this.issues = issues;
  }
}

function isIssue(value: unknown): value is DefinitionIssue {
  if (!value || typeof value !== "object") return false;
  const item = value as Record<string, unknown>;
  return typeof item.message === "string" && (item.line === null || typeof item.line === "number" || item.line === undefined);
}

/** The data of an openapi-fetch answer, or a DefinitionProblem carrying the problem's detail and issues. */
export async function unwrapDefinition<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (error === undefined && data !== undefined) return data;
  const body = (error ?? {}) as Record<string, unknown>;
  const detail = typeof body.detail === "string" ? body.detail : `${response.status} ${response.statusText}`;
  const issues = Array.isArray(body.errors)
    ? body.errors.filter(isIssue).map((issue) => ({
        file: issue.file ?? null,
        path: typeof issue.path === "string" ? issue.path : "",
        line: issue.line ?? null,
        column: issue.column ?? null,
        message: issue.message,
      }))
    : [];
  throw new DefinitionProblem(response.status, detail, issues);
}
