// Live progress of a suite run (shared/api/server-events.ts): each of its runs' status changes and the counts,
// applied to the suite run already shown; a run it does not show yet (a retry) reloads it, as does the end.
import type { EventSourceMessage } from "@microsoft/fetch-event-source";
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useServerEvents, type LiveState } from "@/shared/api/server-events";
import { suiteRunQuery, type RunStatus } from "./runs";
import type { SuiteRun } from "./suite-runs";

type RunChange = { id: string; status: RunStatus; reason: string | null };
type Progress = { status: RunStatus; counts: Record<string, number>; total: number };

/** The suite run after one event, or null when it must be loaded again (a run it does not list yet). */
export function applySuiteRunEvent(suiteRun: SuiteRun, message: EventSourceMessage): SuiteRun | null {
  if (message.event === "run") {
    const change = JSON.parse(message.data) as RunChange;
    if (!suiteRun.runs.some((run) => run.id === change.id)) return null;
    const runs = suiteRun.runs.map((run) =>
      run.id === change.id ? { ...run, status: change.status, status_reason: change.reason } : run,
    );
    return { ...suiteRun, runs };
  }
  if (message.event === "progress") {
    const progress = JSON.parse(message.data) as Progress;
    return { ...suiteRun, status: progress.status, counts: progress.counts, total: progress.total };
  }
  return suiteRun;
}

function apply(client: QueryClient, suiteRunId: string, message: EventSourceMessage): void {
  const key = suiteRunQuery(suiteRunId).queryKey;
  const shown = client.getQueryData<SuiteRun>(key);
  if (!shown) return;
  const next = applySuiteRunEvent(shown, message);
  if (next === null) void client.invalidateQueries({ queryKey: key });
  else client.setQueryData(key, next);
}

export function useSuiteRunEvents(suiteRunId: string, follow: boolean): LiveState {
  const client = useQueryClient();
  return useServerEvents({
    path: `/api/v1/suite-runs/${encodeURIComponent(suiteRunId)}/events`,
    follow,
    onMessage: (message) => apply(client, suiteRunId, message),
    onEnd: () => void client.invalidateQueries({ queryKey: suiteRunQuery(suiteRunId).queryKey }),
  });
}
