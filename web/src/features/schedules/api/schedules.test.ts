import { bodyOf, checkSchedule, emptySchedule, type ScheduleDraft } from "./schedules";

const good: ScheduleDraft = {
  ...emptySchedule(),
  name: "nightly",
  suite: "smoke",
  environment: "staging",
  cron: " 30  2 * * 1-5 ",
  timezone: "Europe/Berlin",
  priority: "-5",
  variables: '{"user": "night"}',
};

describe("a schedule's form", () => {
  it("passes a good draft and sends it as the API takes it", () => {
    expect(Object.values(checkSchedule(good)).filter(Boolean)).toEqual([]);
    expect(bodyOf(good)).toEqual({
      name: "nightly",
      suite: "smoke",
      environment: "staging",
      cron: "30  2 * * 1-5",
      timezone: "Europe/Berlin",
      enabled: true,
      priority: -5,
      variables: { user: "night" },
      misfire_policy: "latest",
    });
    expect(bodyOf({ ...good, priority: "", variables: "" })).toMatchObject({ priority: null, variables: {} });
  });

  it("names every field that needs a change", () => {
    const checked = checkSchedule({
      ...good,
      name: "-nightly",
      suite: "",
      environment: "",
      cron: "0 0 * *",
      timezone: "Mars/Olympus",
      priority: "1001",
      variables: '{"not-a-name": 1}',
    });
    expect(checked).toEqual({
      name: expect.stringContaining("starting with a letter or digit"),
      suite: "Choose the suite it starts.",
      environment: "Choose the environment it runs on.",
      cron: expect.stringContaining("Expected 5 fields"),
      timezone: expect.stringContaining("Unknown time zone 'Mars/Olympus'"),
      priority: "A whole number from -1,000 to 1,000, or empty.",
      variables: expect.stringContaining("'not-a-name' is not a variable name"),
      misfire_policy: null,
    });
    expect(checkSchedule({ ...good, variables: "[1]" }).variables).toContain("A JSON object");
    expect(checkSchedule({ ...good, priority: "1.5" }).priority).not.toBeNull();
  });
});
