import { queryOptions } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/shared/api/client";
import { checkInteger, checkName, parseJsonObject } from "@/shared/forms/checks";
import { readCron } from "./cron-reading";

export type Schedule = Schemas["ScheduleOut"];
export type ScheduleDetail = Schemas["ScheduleDetail"];
export type MisfirePolicy = Schemas["ScheduleCreate"]["misfire_policy"];

export const MISFIRE_POLICIES: { value: MisfirePolicy; label: string }[] = [
  { value: "latest", label: "latest — once, for the most recent missed time" },
  { value: "skip", label: "skip — none missed by more than 60 s" },
  { value: "all", label: "all — every missed time (at most the 10 latest)" },
];
export const FIRES_PAGE = 20;

export const schedulesQuery = (project: string) =>
  queryOptions({
    queryKey: ["schedules", project],
    queryFn: () =>
      unwrap(api.GET("/api/v1/projects/{project}/schedules", { params: { path: { project }, query: { limit: 500 } } })),
  });

export const scheduleQuery = (project: string, schedule: string) =>
  queryOptions({
    queryKey: ["schedules", project, schedule],
    queryFn: () =>
      unwrap(api.GET("/api/v1/projects/{project}/schedules/{schedule}", { params: { path: { project, schedule } } })),
  });

export const firesQuery = (project: string, schedule: string, page: number) =>
  queryOptions({
    queryKey: ["schedules", project, schedule, "fires", page],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{project}/schedules/{schedule}/fires", {
          params: { path: { project, schedule }, query: { limit: FIRES_PAGE, offset: (page - 1) * FIRES_PAGE } },
        }),
      ),
  });

export type ScheduleDraft = {
  name: string;
  suite: string;
  environment: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  priority: string;
  variables: string;
  misfire_policy: MisfirePolicy;
};
export const SCHEDULE_FIELDS = [
  "name",
  "suite",
  "environment",
  "cron",
  "timezone",
  "priority",
  "variables",
  "misfire_policy",
] as const;
export type ScheduleField = (typeof SCHEDULE_FIELDS)[number];

export function emptySchedule(): ScheduleDraft {
  return {
    name: "",
    suite: "",
    environment: "",
    cron: "",
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
    enabled: true,
    priority: "",
    variables: "",
    misfire_policy: "latest",
  };
}

export function draftOf(schedule: Schedule): ScheduleDraft {
  return {
    name: schedule.name,
    suite: schedule.suite,
    environment: schedule.environment,
    cron: schedule.cron,
    timezone: schedule.timezone,
    enabled: schedule.enabled,
    priority: schedule.priority?.toString() ?? "",
    variables: Object.keys(schedule.variables).length ? JSON.stringify(schedule.variables, null, 2) : "",
    misfire_policy: schedule.misfire_policy as MisfirePolicy,
  };
}

export function timeZones(): string[] {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return zones.includes("UTC") ? zones : ["UTC", ...zones];
}

function checkTimeZone(zone: string): string | null {
  if (!zone.trim()) return "Give a time zone, e.g. Europe/Berlin or UTC.";
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return null;
  } catch {
    return `Unknown time zone '${zone}': an IANA name such as Europe/Berlin or America/New_York.`;
  }
}

function checkVariables(text: string): string | null {
  const parsed = parseJsonObject(text, 200);
  if ("error" in parsed) return parsed.error;
  const bad = Object.keys(parsed.value).find((name) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name));
  return bad === undefined ? null : `'${bad}' is not a variable name (letters, digits and _, not first a digit).`;
}

export function checkSchedule(draft: ScheduleDraft): Record<ScheduleField, string | null> {
  const cron = readCron(draft.cron);
  return {
    name: checkName(draft.name, "schedule name"),
    suite: draft.suite ? null : "Choose the suite it starts.",
    environment: draft.environment ? null : "Choose the environment it runs on.",
    cron: cron.ok ? null : cron.error,
    timezone: checkTimeZone(draft.timezone),
    priority: checkInteger(draft.priority, -1000, 1000),
    variables: checkVariables(draft.variables),
    misfire_policy: null,
  };
}

type TimeZone = NonNullable<Schemas["ScheduleCreate"]["timezone"]>;

export function bodyOf(draft: ScheduleDraft) {
  const variables = parseJsonObject(draft.variables, 200);
  return {
    name: draft.name,
    suite: draft.suite,
    environment: draft.environment,
    cron: draft.cron.trim(),
    // the API's schema lists every zone it knows; checkTimeZone and the API refuse any other
    timezone: draft.timezone.trim() as TimeZone,
    enabled: draft.enabled,
    priority: draft.priority.trim() ? Number(draft.priority) : null,
    variables: ("value" in variables ? variables.value : {}) as Record<string, Schemas["StorableJson"]>,
    misfire_policy: draft.misfire_policy,
  };
}

export function createSchedule(project: string, draft: ScheduleDraft) {
  return unwrap(api.POST("/api/v1/projects/{project}/schedules", { params: { path: { project } }, body: bodyOf(draft) }));
}

export function updateSchedule(project: string, schedule: string, draft: ScheduleDraft) {
  return unwrap(
    api.PATCH("/api/v1/projects/{project}/schedules/{schedule}", {
      params: { path: { project, schedule } },
      body: bodyOf(draft),
    }),
  );
}

export function setEnabled(project: string, schedule: string, enabled: boolean) {
  const params = { params: { path: { project, schedule } } };
  return unwrap(
    enabled
      ? api.POST("/api/v1/projects/{project}/schedules/{schedule}/enable", params)
      : api.POST("/api/v1/projects/{project}/schedules/{schedule}/disable", params),
  );
}

export function deleteSchedule(project: string, schedule: string) {
  return unwrap(api.DELETE("/api/v1/projects/{project}/schedules/{schedule}", { params: { path: { project, schedule } } }));
}
