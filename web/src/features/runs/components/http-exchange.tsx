import { formatBytes, formatDuration } from "@/shared/lib/format";
import { TextBlock } from "@/shared/ui/text-block";

/** A recorded request or response (steps/recording.py). Everything in it came from the SUT or a
 * template: it is shown as text, never interpreted. */
type Recorded = Record<string, unknown>;

function str(value: unknown): string {
  return typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
}

function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function Headers({ headers, label }: { headers: unknown; label: string }) {
  if (!headers || typeof headers !== "object") return null;
  const lines = Object.entries(headers as Record<string, unknown>).map(([name, value]) => `${name}: ${str(value)}`);
  return <TextBlock label={label} text={lines.join("\n") || "(none)"} />;
}

function Body({ exchange, label }: { exchange: Recorded; label: string }) {
  const body = str(exchange.body);
  const size = typeof exchange.body_bytes === "number" ? formatBytes(exchange.body_bytes) : null;
  return (
    <div className="flex flex-col gap-1">
      <div className="text-xs text-slate-600 dark:text-slate-300">
        Body{size ? ` · ${size}` : ""}
        {exchange.body_truncated === true ? " · cut to the recording limit" : ""}
      </div>
      <TextBlock label={label} text={body ? prettyBody(body) : "(empty)"} />
    </div>
  );
}

export function RequestView({ request }: { request: Recorded | null }) {
  if (!request) return <p className="text-sm text-slate-600 dark:text-slate-300">No request was sent.</p>;
  return (
    <div className="flex flex-col gap-2">
      <p className="font-mono text-sm break-all">
        {str(request.method)} {str(request.url)}
      </p>
      <Headers headers={request.headers} label="Request headers" />
      <Body exchange={request} label="Request body" />
    </div>
  );
}

export function ResponseView({ response }: { response: Recorded | null }) {
  if (!response) return <p className="text-sm text-slate-600 dark:text-slate-300">No response was received.</p>;
  return (
    <div className="flex flex-col gap-2">
      <p className="font-mono text-sm">
        {str(response.status)} {str(response.reason)}
        {typeof response.elapsed_ms === "number" ? ` · ${formatDuration(response.elapsed_ms)}` : ""}
      </p>
      <Headers headers={response.headers} label="Response headers" />
      <Body exchange={response} label="Response body" />
    </div>
  );
}
