import { Link } from "@tanstack/react-router";
import type { Run } from "@/features/runs/api/runs";
import { formatDuration, formatTime } from "@/shared/lib/format";
import { StatusBadge } from "@/shared/ui/status-badge";

export function RunsTable({ runs, projectNames }: { runs: Run[]; projectNames: Map<string, string> }) {
  if (runs.length === 0) {
    return <p className="py-8 text-center text-slate-600 dark:text-slate-300">No runs match these filters.</p>;
  }
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <caption className="sr-only">Runs, newest first</caption>
        <thead className="border-b border-slate-200 text-xs uppercase text-slate-600 dark:border-slate-700 dark:text-slate-300">
          <tr>
            <th scope="col" className="py-2 pr-3">Test</th>
            <th scope="col" className="py-2 pr-3">Status</th>
            <th scope="col" className="py-2 pr-3">Project</th>
            <th scope="col" className="py-2 pr-3">Environment</th>
            <th scope="col" className="py-2 pr-3">Trigger</th>
            <th scope="col" className="py-2 pr-3">Created</th>
            <th scope="col" className="py-2 text-right">Duration</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.id} className="border-b border-slate-100 last:border-0 dark:border-slate-800">
              <td className="py-2 pr-3">
                <Link
                  to="/runs/$runId"
                  params={{ runId: run.id }}
                  className="font-medium text-indigo-700 hover:underline focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-indigo-300"
                >
                  {run.name}
                </Link>
                {run.waiting_for ? (
                  <div className="text-xs text-slate-600 dark:text-slate-400">waiting for {run.waiting_for}</div>
                ) : null}
              </td>
              <td className="py-2 pr-3">
                <StatusBadge status={run.status} />
                {run.flaky ? <StatusBadge status="flaky" className="ml-1" /> : null}
                {run.retried_by ? <StatusBadge status="retried" className="ml-1" /> : null}
              </td>
              <td className="py-2 pr-3">{projectNames.get(run.project_id) ?? run.project_id.slice(0, 8)}</td>
              <td className="py-2 pr-3">{run.environment}</td>
              <td className="py-2 pr-3">{run.trigger}</td>
              <td className="py-2 pr-3 whitespace-nowrap">{formatTime(run.created_at)}</td>
              <td className="py-2 text-right tabular-nums">{formatDuration(run.duration_ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
