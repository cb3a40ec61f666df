// Checks a form makes before it sends anything, mirroring the API's rules (the API checks again and has
// the last word). Each returns the message to show next to the field, or null.

const NAME = /^[A-Za-z0-9][A-Za-z0-9._ -]*$/;

export function checkName(value: string, what = "name"): string | null {
  if (!value.trim()) return `Give a ${what}.`;
  if (value.length > 200) return `A ${what} has at most 200 characters.`;
  if (!NAME.test(value)) {
    return `Letters, digits, '.', '_', '-' and spaces, starting with a letter or digit.`;
  }
  return null;
}

/** An optional whole number in [min, max]; empty means "not set". */
export function checkInteger(value: string, min: number, max: number): string | null {
  if (!value.trim()) return null;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    return `A whole number from ${min.toLocaleString("en")} to ${max.toLocaleString("en")}, or empty.`;
  }
  return null;
}

/** An optional number above 0 and at most ``max``; empty means "not set". */
export function checkRate(value: string, max: number): string | null {
  if (!value.trim()) return null;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0 || number > max) {
    return `A number above 0 and at most ${max.toLocaleString("en")} (0.5 is one every two seconds), or empty.`;
  }
  return null;
}

/** The number a field holds, or null when it is empty (the API's "no limit"). */
export function optionalNumber(value: string): number | null {
  return value.trim() ? Number(value) : null;
}

/** A JSON object of at most ``maxKeys`` keys, as text; the parsed object or the problem. */
export function parseJsonObject(
  text: string,
  maxKeys: number,
): { value: Record<string, unknown> } | { error: string } {
  if (!text.trim()) return { value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `Not valid JSON: ${(error as Error).message}` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { error: 'A JSON object, e.g. {"user": "demo"}.' };
  }
  if (Object.keys(value).length > maxKeys) return { error: `At most ${maxKeys} keys.` };
  return { value: value as Record<string, unknown> };
}

/** True when no message is set. */
export function isClean(errors: Record<string, string | null | undefined>): boolean {
  return Object.values(errors).every((message) => !message);
}

/** Only the fields that carry a message. */
export function messages<F extends string>(errors: Record<F, string | null>): Partial<Record<F, string>> {
  return Object.fromEntries(Object.entries(errors).filter(([, message]) => message)) as Partial<Record<F, string>>;
}
