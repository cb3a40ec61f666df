import { readCron } from "./cron-reading";

describe("reading a cron expression", () => {
  it.each([
    ["30 2 * * 1-5", "At 02:30, Monday through Friday"],
    ["*/15 * * * *", "Every 15 minutes"],
    ["0 0 L * *", "At 00:00, on the last day of the month"],
    ["0 9 * * MON#2", "At 09:00, on the second Monday of the month"],
    ["  0   3 1 1 * ", "At 03:00, on day 1 of the month, only in January"],
    ["@daily", "At 00:00"],
    ["@Weekly", "At 00:00, only on Sunday"],
  ])("reads %s as %s", (expression, text) => {
    expect(readCron(expression)).toEqual({ ok: true, text });
  });

  it.each([
    ["", "Give a cron expression"],
    ["* * * *", "Expected 5 fields"],
    ["0 0 0 * * * *", "Expected 5 fields"],
    ["H 2 * * *", "Hashed (H) and random (R)"],
    ["0 R * * *", "Hashed (H) and random (R)"],
    ["61 * * * *", "minutes part must be >= 0 and <= 59"],
    ["@every5m", "Unknown macro"],
    ["1 ".repeat(120), "At most 200 characters"],
  ])("refuses %j", (expression, error) => {
    const reading = readCron(expression);
    expect(reading.ok).toBe(false);
    expect(reading.ok ? "" : reading.error).toContain(error);
  });
});
