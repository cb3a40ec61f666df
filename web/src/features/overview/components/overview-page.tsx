import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { activeRunsQuery, recentRunsQuery, type Run } from "@/features/overview/api/overview";
import { formatDuration, formatTime } from "@/shared/lib/format";
import { Card } from "@/shared/ui/card";
import { StatusBadge } from "@/shared/ui/status-badge";

function RunLine({ run }: { run: Run }) {
  return (
    <li className="flex flex-wrap items-center gap-2 py-1.5">
      <StatusBadge status={run.status} />
      <Link
        to="/runs/$runId"
        params={{ runId: run.id }}
        className="font-medium text-indigo-700 hover:underline dark:text-indigo-300"
      >
        {run.name}
      </Link>
      <span className="text-xs text-slate-600 dark:text-slate-400">
        {run.environment} · {run.waiting_for ? `waiting for ${run.waiting_for}` : formatTime(run.created_at)}
      </span>
      <span className="ml-auto text-xs tabular-nums">{formatDuration(run.duration_ms)}</span>
    </li>
  );
}

function ActiveCard({ status, title }: { status: "IN_PROGRESS" | "QUEUED" | "PENDING"; title: string }) {
  const runs = useQuery(activeRunsQuery(status));
  const headingId = `overview-${status}`;
  return (
    <Card aria-labelledby={headingId}>
      <h2 id={headingId} className="flex items-baseline justify-between text-sm font-semibold uppercase text-slate-600 dark:text-slate-300">
        {title}
        <Link
          to="/runs"
          search={{ page: 1, status }}
          className="text-3xl font-bold text-slate-900 tabular-nums hover:underline dark:text-white"
          aria-label={`${runs.data?.total ?? 0} runs ${title.toLowerCase()}: show them`}
        >
          {runs.data?.total ?? "…"}
        </Link>
      </h2>
      <ul className="mt-2 divide-y divide-slate-100 dark:divide-slate-800">
        {runs.data?.items.map((run) => <RunLine key={run.id} run={run} />)}
      </ul>
    </Card>
  );
}

/** What is going on now: runs in progress, queued and pending, and the latest runs. */
export function OverviewPage() {
  const recent = useQuery(recentRunsQuery());
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">Overview</h1>
      <div className="grid gap-4 md:grid-cols-3">
        <ActiveCard status="IN_PROGRESS" title="In progress" />
        <ActiveCard status="QUEUED" title="Queued" />
        <ActiveCard status="PENDING" title="Pending" />
      </div>
      <Card aria-labelledby="overview-recent">
        <h2 id="overview-recent" className="text-lg font-semibold">
          Recent runs
        </h2>
        {recent.isError ? (
          <p role="alert">Could not load the runs: {recent.error.message}</p>
        ) : recent.data?.items.length === 0 ? (
          <p className="text-slate-600 dark:text-slate-300">No run yet.</p>
        ) : (
          <ul className="mt-2 divide-y divide-slate-100 dark:divide-slate-800">
            {recent.data?.items.map((run) => <RunLine key={run.id} run={run} />)}
          </ul>
        )}
        <Link to="/runs" search={{ page: 1 }} className="mt-2 inline-block text-sm text-indigo-700 hover:underline dark:text-indigo-300">
          All runs →
        </Link>
      </Card>
    </div>
  );
}
