// Live steps of a run: the API's Server-Sent Events, read with fetch so the bearer token goes in a header
// (EventSource cannot send one). On a dropped connection it reconnects with Last-Event-ID (the last step's
// seq), and steps are merged by seq, so none is lost or shown twice.
import { fetchEventSource, type EventSourceMessage } from "@microsoft/fetch-event-source";
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { session } from "@/shared/auth/session";
import { runQuery, type Run, type RunStatus, type Step } from "./runs";

export type LiveState = "connecting" | "live" | "reconnecting" | "ended" | "off";

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

class StreamRefused extends Error {}

export function useRunEvents(runId: string, follow: boolean): LiveState {
  const client = useQueryClient();
  const [state, setState] = useState<LiveState>(follow ? "connecting" : "off");

  useEffect(() => {
    if (!follow) return;
    const controller = new AbortController();
    const steps = client.getQueryData<Run>(runQuery(runId).queryKey)?.steps ?? [];
    const lastSeen = steps.at(-1)?.seq;
    const headers: Record<string, string> = { Authorization: `Bearer ${session.accessToken() ?? ""}` };
    // The library keeps this header (lower case) up to date with every id it receives.
    if (lastSeen !== undefined) headers["last-event-id"] = String(lastSeen);
    let ended = false;
    void fetchEventSource(`/api/v1/runs/${encodeURIComponent(runId)}/events`, {
      headers,
      signal: controller.signal,
      openWhenHidden: true,
      async onopen(response) {
        if (!response.ok) throw new StreamRefused(`${response.status}`);
        setState("live");
      },
      onmessage(message) {
        if (message.event === "end") {
          ended = true;
          setState("ended");
          controller.abort();
          void client.invalidateQueries({ queryKey: runQuery(runId).queryKey });
          return;
        }
        apply(client, runId, message);
      },
      onclose() {
        if (!ended) setState("reconnecting"); // returning retries, with Last-Event-ID
      },
      onerror(error) {
        if (error instanceof StreamRefused) throw error; // 401/403/404: retrying will not help
        setState("reconnecting");
        return 2000;
      },
    }).catch(() => setState("off"));
    return () => controller.abort();
  }, [client, runId, follow]);

  return follow ? state : "off";
}
