import { useMutation } from "@tanstack/react-query";
import { explainRun } from "@/features/runs/api/run-actions";
import type { Schemas } from "@/shared/api/client";
import { ApiError } from "@/shared/api/client";
import { Button } from "@/shared/ui/button";
import { Card } from "@/shared/ui/card";
import { mutedClass } from "@/shared/ui/styles";

type Explanation = Schemas["ExplainResponse"];

/** A finding's text without the citation marks it repeats (``… [E1]``): they are shown as links beside it. */
export function withoutMarks(text: string, citations: string[]): string {
  return citations.reduce((rest, id) => rest.split(`[${id}]`).join(""), text).replace(/\s+$/, "");
}

/** An evidence item's anchor on the page (its id is the assistant's, any text: kept to safe characters). */
const anchor = (id: string) => `evidence-${id.replace(/[^A-Za-z0-9_-]/g, "_")}`;

function Answer({ explanation }: { explanation: Explanation }) {
  const known = new Set(explanation.evidence.map((item) => item.id));
  return (
    <div className="flex flex-col gap-3">
      <p className="font-medium">{explanation.summary}</p>
      {explanation.findings.length > 0 ? (
        <ul className="flex list-disc flex-col gap-1 pl-5 text-sm">
          {explanation.findings.map((finding, index) => (
            <li key={index}>
              {withoutMarks(finding.text, finding.citations ?? [])}{" "}
              {(finding.citations ?? []).map((citation) =>
                known.has(citation) ? (
                  <a
                    key={citation}
                    href={`#${anchor(citation)}`}
                    className="ml-1 rounded bg-slate-100 px-1 font-mono text-xs text-indigo-700 hover:underline dark:bg-slate-800 dark:text-indigo-300"
                  >
                    [{citation}]
                  </a>
                ) : (
                  <span key={citation} className={`ml-1 font-mono text-xs ${mutedClass}`}>
                    [{citation}]
                  </span>
                ),
              )}
            </li>
          ))}
        </ul>
      ) : null}
      {explanation.evidence.length > 0 ? (
        <details>
          <summary className="cursor-pointer text-sm">Evidence ({explanation.evidence.length})</summary>
          <ol className="mt-2 flex flex-col gap-2">
            {explanation.evidence.map((item) => (
              <li key={item.id} id={anchor(item.id)} className="text-sm">
                <span className="font-mono text-xs">[{item.id}]</span> <span className="font-medium">{item.title}</span>{" "}
                <span className={mutedClass}>({item.kind})</span>
                <pre className="mt-1 max-h-48 overflow-auto font-mono text-xs whitespace-pre-wrap break-all">
                  {item.excerpt}
                </pre>
              </li>
            ))}
          </ol>
        </details>
      ) : null}
      <p className={`text-xs ${mutedClass}`}>
        {explanation.model ? `Written by ${explanation.model}, grounded in the evidence above.` : "Built from the evidence above (no model)."}
      </p>
    </div>
  );
}

/** "Explain this failure": the assistant's findings about a failed run, each citing its evidence. */
export function ExplainFailure({ runId }: { runId: string }) {
  const explain = useMutation({ mutationFn: () => explainRun(runId) });
  const unavailable = explain.error instanceof ApiError && explain.error.status === 503;
  return (
    <Card aria-label="Explanation of the failure">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 className="text-lg font-semibold">Why did it fail?</h2>
        <Button variant="secondary" disabled={explain.isPending} onClick={() => explain.mutate()}>
          {explain.isPending ? "Explaining…" : explain.data ? "Explain again" : "Explain this failure"}
        </Button>
      </div>
      {explain.isError ? (
        <p role="alert" className="mt-2 text-sm text-red-700 dark:text-red-300">
          {unavailable ? `The assistant is not available: ${explain.error.message}` : explain.error.message}
        </p>
      ) : null}
      {explain.data ? (
        <div className="mt-3">
          <Answer explanation={explain.data} />
        </div>
      ) : null}
    </Card>
  );
}
