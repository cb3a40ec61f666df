// A cron expression read out in words (cronstrue), with the checks the API makes that a reader can make
// without the calendar: five fields, no seconds or years, no hashed (H) or random (R) values. Whether any
// date matches (February 30) is the API's to say, with the next fire times.
import cronstrue from "cronstrue";

const MACROS: Record<string, string> = {
  "@hourly": "0 * * * *",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@weekly": "0 0 * * 0",
  "@monthly": "0 0 1 * *",
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
};
const FIELDS = "minute hour day-of-month month day-of-week";

export type CronReading = { ok: true; text: string } | { ok: false; error: string };

export function readCron(expression: string): CronReading {
  const trimmed = expression.trim().replace(/\s+/g, " ");
  if (!trimmed) return { ok: false, error: `Give a cron expression: ${FIELDS}, e.g. 30 2 * * 1-5.` };
  if (trimmed.length > 200) return { ok: false, error: "At most 200 characters." };
  const lower = trimmed.toLowerCase();
  if (lower.startsWith("@")) {
    const expanded = MACROS[lower];
    if (!expanded) return { ok: false, error: `Unknown macro: use one of ${Object.keys(MACROS).join(", ")}.` };
    return readCron(expanded);
  }
  const fields = trimmed.split(" ");
  if (fields.length !== 5) {
    return {
      ok: false,
      error: `Expected 5 fields (${FIELDS}), got ${fields.length}; seconds and years are not supported.`,
    };
  }
  if (fields.some((field) => /(^|[^a-z])[hr]($|[^a-z])/i.test(field))) {
    return { ok: false, error: "Hashed (H) and random (R) values are not supported." };
  }
  try {
    const text = cronstrue.toString(trimmed, { use24HourTimeFormat: true, throwExceptionOnParseError: true });
    return { ok: true, text };
  } catch (error) {
    return { ok: false, error: String(error instanceof Error ? error.message : error) };
  }
}
