// Live steps of a run (shared/api/server-events.ts). Steps are merged by seq, and a reconnect resumes after
// the last step shown, so none is lost or shown twice.
import type { EventSourceMessage } from "@microsoft/fetch-event-source";
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useServerEvents, type LiveState } from "@/shared/api/server-events";
import { runQuery, type Run, type RunStatus, type Step } from "./runs";

export type { LiveState };

export function mergeStep(steps: Step[] | null | undefined, step: Step): Step[] {
  return [...(steps ?? []).filter((known) => known.seq !== step.seq), step].sort((a, b) => a.seq - b.seq);
}

function apply(client: QueryClient, runId: string, message: EventSourceMessage): void {
  const key = runQuery(runId).queryKey;
  if (message.event === "step") {
    const step = JSON.parse(message.data) as Step;
    client.setQueryData(key, (run: Run | undefined) => run && { ...run, steps: mergeStep(run.steps, step) });
  } else if (message.event === "status") {
    const change = JSON.parse(message.data) as { status: RunStatus; reason: string | null };
    client.setQueryData(
      key,
      (run: Run | undefined) => run && { ...run, status: change.status, status_reason: change.reason },
    );
  }
}

export function useRunEvents(runId: string, follow: boolean): LiveState {
  const client = useQueryClient();
  return useServerEvents({
    path: `/api/v1/runs/${encodeURIComponent(runId)}/events`,
    follow,
    lastEventId: () => {
      const seq = client.getQueryData<Run>(runQuery(runId).queryKey)?.steps?.at(-1)?.seq;
      return seq === undefined ? undefined : String(seq);
    },
    onMessage: (message) => apply(client, runId, message),
    onEnd: () => void client.invalidateQueries({ queryKey: runQuery(runId).queryKey }),
  });
}
