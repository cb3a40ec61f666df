import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { leftoversQuery, sweep } from "@/features/environments/api/ledger";
import type { Schemas } from "@/shared/api/client";
import { formatTime } from "@/shared/lib/format";
import { Button } from "@/shared/ui/button";
import { Card } from "@/shared/ui/card";
import { FormMessage } from "@/shared/ui/field";

type Report = Schemas["SweepReportOut"];

function reportText(report: Report): string {
  const failed = report.failed.length ? `; ${report.failed.length} could not be undone` : "";
  return `Swept: ${report.cleaned} undone, ${report.already_gone} already gone${failed}.`;
}

/** What runs created in the SUT and have not undone (the data ledger), and sweeping it now. */
export function LedgerSection({ project, environment, canEdit }: { project: string; environment: string; canEdit: boolean }) {
  const queryClient = useQueryClient();
  const pending = useQuery(leftoversQuery(project, environment, "pending"));
  const failed = useQuery(leftoversQuery(project, environment, "failed"));
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);
  const entries = [...(failed.data?.items ?? []), ...(pending.data?.items ?? [])];

  async function sweepNow() {
    setBusy(true);
    setError(null);
    setReport(null);
    try {
      setReport(await sweep(project, environment));
      await queryClient.invalidateQueries({ queryKey: ["environments", project, environment, "ledger"] });
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card aria-labelledby="ledger-heading" className="flex flex-col gap-3">
      <h2 id="ledger-heading" className="text-lg font-semibold">
        Test data left in the SUT
      </h2>
      <p className="text-sm text-slate-600 dark:text-slate-300">
        {pending.data && failed.data
          ? `${pending.data.total} waiting to be undone, ${failed.data.total} that could not be undone.`
          : "Loading the data ledger…"}
      </p>
      {entries.length ? (
        <ul className="flex flex-col gap-1 text-sm">
          {entries.map((entry) => (
            <li key={entry.id}>
              <span className="font-mono text-xs">{entry.status}</span> {entry.label}: {entry.method} {entry.resource}
              {entry.last_error ? <span className="text-red-700 dark:text-red-300"> — {entry.last_error}</span> : null}{" "}
              <span className="text-xs text-slate-600 dark:text-slate-400">{formatTime(entry.created_at)}</span>
            </li>
          ))}
        </ul>
      ) : null}
      {report ? (
        <>
          <FormMessage message={reportText(report)} tone={report.failed.length ? "error" : "ok"} />
          {report.failed.length ? (
            <ul className="text-sm">
              {report.failed.map((failure) => (
                <li key={failure.id}>
                  {failure.label} ({failure.operation} {failure.resource}): {failure.error}
                </li>
              ))}
            </ul>
          ) : null}
        </>
      ) : null}
      <FormMessage message={error} />
      {canEdit ? (
        <div>
          <Button variant="secondary" disabled={busy} onClick={() => void sweepNow()}>
            {busy ? "Sweeping…" : "Sweep now"}
          </Button>
        </div>
      ) : null}
    </Card>
  );
}
