// Server-Sent Events of the API, read with fetch so the bearer token goes in a header (EventSource cannot send
// one). On a dropped connection it reconnects, with Last-Event-ID when the caller knows the last id seen; a
// 401/403/404 stops it. An `end` event closes the stream for good.
import { fetchEventSource, type EventSourceMessage } from "@microsoft/fetch-event-source";
import { useEffect, useRef, useState } from "react";
import { session } from "@/shared/auth/session";

export type LiveState = "connecting" | "live" | "reconnecting" | "ended" | "off";

type Options = {
  /** The stream's address, e.g. /api/v1/runs/{id}/events. */
  path: string;
  /** Whether to listen at all (not once what it follows has ended). */
  follow: boolean;
  /** The id of the last event already shown, read when the stream opens. */
  lastEventId?: () => string | undefined;
  onMessage: (message: EventSourceMessage) => void;
  /** After the `end` event. */
  onEnd: () => void;
};

class StreamRefused extends Error {}

export function useServerEvents({ path, follow, lastEventId, onMessage, onEnd }: Options): LiveState {
  const [state, setState] = useState<LiveState>(follow ? "connecting" : "off");
  // The latest callbacks, without reconnecting when they change identity.
  const handlers = useRef({ lastEventId, onMessage, onEnd });
  useEffect(() => {
    handlers.current = { lastEventId, onMessage, onEnd };
  });

  useEffect(() => {
    if (!follow) return;
    const controller = new AbortController();
    const headers: Record<string, string> = {};
    const lastSeen = handlers.current.lastEventId?.();
    // The library keeps this header (lower case) up to date with every id it receives.
    if (lastSeen !== undefined) headers["last-event-id"] = lastSeen;
    let ended = false;
    void fetchEventSource(path, {
      headers,
      // The token as it is at each (re)connection: a renewed one replaces the one the stream opened with.
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          headers: { ...(init?.headers as Record<string, string>), Authorization: `Bearer ${session.accessToken() ?? ""}` },
        }),
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
          handlers.current.onEnd();
          return;
        }
        handlers.current.onMessage(message);
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
  }, [path, follow]);

  return follow ? state : "off";
}
