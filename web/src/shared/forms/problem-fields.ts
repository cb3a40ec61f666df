// The API's problem+json, placed next to the fields of a form: each entry of ``errors`` goes to the field
// its location starts with (``secrets.token`` → ``secrets``); what names no field of the form (a conflict,
// a refusal) is the form's own message.
import { ApiError } from "@/shared/api/client";

export type FieldErrors<F extends string> = Partial<Record<F, string>>;
export type FormProblem<F extends string> = { fields: FieldErrors<F>; form: string | null };

// pydantic words a validator's message this way; the field's label already says where.
const PREFIXES = [/^Value error, /, /^Assertion failed, /];

function clean(message: string): string {
  return PREFIXES.reduce((text, prefix) => text.replace(prefix, ""), message);
}

/** Where each message of ``error`` belongs among ``fields`` (aliases map an API field to a form field). */
export function problemFields<F extends string>(
  error: unknown,
  fields: readonly F[],
  aliases: Partial<Record<string, F>> = {},
): FormProblem<F> {
  if (!(error instanceof ApiError)) {
    return { fields: {}, form: error instanceof Error ? error.message : "Something went wrong." };
  }
  const placed: FieldErrors<F> = {};
  const unplaced: string[] = [];
  for (const item of error.errors) {
    const [head = "", ...rest] = item.location.split(".");
    const field = (fields as readonly string[]).includes(head) ? (head as F) : aliases[head];
    if (field === undefined) {
      unplaced.push(`${item.location}: ${clean(item.message)}`);
      continue;
    }
    const where = rest.length ? `${rest.join(".")}: ` : "";
    const message = `${where}${clean(item.message)}`;
    placed[field] = placed[field] ? `${placed[field]}; ${message}` : message;
  }
  if (error.errors.length === 0) return { fields: {}, form: error.message };
  return { fields: placed, form: unplaced.length ? unplaced.join("; ") : null };
}
