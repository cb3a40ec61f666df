import { queryOptions } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/shared/api/client";

export type Mute = Schemas["MuteOut"];

/** A mute lasts at most this long (the API refuses more): it must be looked at again within a year. */
export const MAX_MUTE_DAYS = 366;
export const MAX_REASON = 2000;

/** The test case's mutes on every environment, the expired ones too (the soonest to expire first). */
export const mutesQuery = (project: string, testCase: string) =>
  queryOptions({
    queryKey: ["mutes", project, testCase],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{project}/mutes", {
          params: { path: { project }, query: { test_case: testCase, include_expired: true, limit: 200, offset: 0 } },
        }),
      ),
  });

export type MuteDraft = { environment: string; reason: string; expires: string };
export const MUTE_FIELDS = ["environment", "reason", "expires_at"] as const;
export type MuteField = (typeof MUTE_FIELDS)[number];

/** The end of the chosen day in UTC, as the API takes it. */
export function muteExpiry(day: string): string {
  return `${day}T23:59:59Z`;
}

/** The day a mute ends by default: a week from ``now`` (as yyyy-mm-dd, UTC). */
export function defaultExpiry(now = new Date()): string {
  return new Date(now.getTime() + 7 * 86_400_000).toISOString().slice(0, 10);
}

export function checkMute(draft: MuteDraft, now = new Date()): Record<MuteField, string | null> {
  let expires: string | null = null;
  const end = Date.parse(muteExpiry(draft.expires));
  if (!draft.expires || Number.isNaN(end)) expires = "Choose the day the mute ends.";
  else if (end <= now.getTime()) expires = "Choose a day from today on.";
  else if (end - now.getTime() > MAX_MUTE_DAYS * 86_400_000) expires = `At most ${MAX_MUTE_DAYS} days ahead.`;
  const reason = draft.reason.trim();
  return {
    environment: draft.environment ? null : "Choose the environment it is muted on.",
    reason: !reason ? "Say why it is muted (reports show it)." : reason.length > MAX_REASON ? `At most ${MAX_REASON} characters.` : null,
    expires_at: expires,
  };
}

export function createMute(project: string, testCase: string, draft: MuteDraft) {
  return unwrap(
    api.POST("/api/v1/projects/{project}/mutes", {
      params: { path: { project } },
      body: {
        test_case: testCase,
        environment: draft.environment,
        reason: draft.reason.trim(),
        expires_at: muteExpiry(draft.expires),
      },
    }),
  );
}

export function deleteMute(project: string, muteId: string) {
  return unwrap(
    api.DELETE("/api/v1/projects/{project}/mutes/{mute_id}", { params: { path: { project, mute_id: muteId } } }),
  );
}
