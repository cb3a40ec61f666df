import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { type Run, suiteRunQuery, TERMINAL } from "@/features/runs/api/runs";
import { useSuiteRunEvents } from "@/features/runs/api/suite-run-events";
import type { SuiteRun } from "@/features/runs/api/suite-runs";
import type { LiveState } from "@/shared/api/server-events";
import { formatDuration, formatTime } from "@/shared/lib/format";
import { Card } from "@/shared/ui/card";
import { Fact } from "@/shared/ui/fact";
import { StatusBadge } from "@/shared/ui/status-badge";
import { SuiteRunActions } from "./suite-run-actions";

const liveText: Record<LiveState, string> = {
  connecting: "connecting to live updates…",
  live: "live: tests change as they run",
  reconnecting: "connection lost, reconnecting…",
  ended: "",
  off: "",
};
const link = "font-medium text-indigo-700 hover:underline dark:text-indigo-300";

type Phase = NonNullable<SuiteRun["setup"]>;

/** A suite run's setup, tests in the order they were created, and teardown, each linking to its run. */
function RunRows({ suiteRun }: { suiteRun: SuiteRun }) {
  const phases = (phase: Phase | null | undefined) =>
    phase ? (
      <tr key={phase.id} className="border-t border-slate-200 dark:border-slate-700">
        <td className="py-2 pr-4">
          <Link to="/runs/$runId" params={{ runId: phase.id }} className={link}>
            {phase.phase === "setup" ? "Suite setup" : "Suite teardown"}
          </Link>
        </td>
        <td className="py-2 pr-4">
          <StatusBadge status={phase.status} />
        </td>
        <td className="py-2 pr-4 text-slate-700 dark:text-slate-200">{phase.status_reason ?? ""}</td>
        <td className="py-2">—</td>
      </tr>
    ) : null;
  const row = (run: Run) => (
    <tr key={run.id} className="border-t border-slate-200 dark:border-slate-700">
      <td className="py-2 pr-4">
        <Link to="/runs/$runId" params={{ runId: run.id }} className={link}>
          {run.name}
        </Link>
        {run.waiting_for ? (
          <div className="text-xs text-slate-600 dark:text-slate-400">waiting for {run.waiting_for}</div>
        ) : null}
      </td>
      <td className="py-2 pr-4">
        <StatusBadge status={run.status} />
        {run.flaky ? <StatusBadge status="flaky" className="ml-1" /> : null}
        {run.muted ? <StatusBadge status="muted" className="ml-1" /> : null}
        {run.retried_by ? <StatusBadge status="retried" className="ml-1" /> : null}
      </td>
      <td className="py-2 pr-4 text-slate-700 dark:text-slate-200">{run.status_reason ?? ""}</td>
      <td className="py-2 whitespace-nowrap">{formatDuration(run.duration_ms)}</td>
    </tr>
  );
  return (
    <table className="w-full text-left text-sm">
      <caption className="sr-only">The suite run's tests</caption>
      <thead>
        <tr className="text-xs uppercase text-slate-600 dark:text-slate-400">
          <th scope="col" className="pb-2 pr-4">Test</th>
          <th scope="col" className="pb-2 pr-4">Status</th>
          <th scope="col" className="pb-2 pr-4">Reason</th>
          <th scope="col" className="pb-2">Duration</th>
        </tr>
      </thead>
      <tbody>
        {phases(suiteRun.setup)}
        {suiteRun.runs.map(row)}
        {phases(suiteRun.teardown)}
      </tbody>
    </table>
  );
}

/** One suite run: its verdict and counts, live while it goes on, every test linking to its run. */
export function SuiteRunDetail({ suiteRunId }: { suiteRunId: string }) {
  const suiteRun = useQuery(suiteRunQuery(suiteRunId));
  const follow = suiteRun.data !== undefined && !TERMINAL.has(suiteRun.data.status);
  const live = useSuiteRunEvents(suiteRunId, follow);

  if (suiteRun.isError) {
    return (
      <p role="alert" className="text-red-700 dark:text-red-300">
        Could not load the suite run: {suiteRun.error.message}
      </p>
    );
  }
  if (!suiteRun.data) return <p>Loading the suite run…</p>;
  const data = suiteRun.data;
  const passed = data.counts.PASSED ?? 0;
  return (
    <div className="flex flex-col gap-4">
      <Link to="/suite-runs" search={{ page: 1 }} className="text-sm text-indigo-700 hover:underline dark:text-indigo-300">
        ← All suite runs
      </Link>
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-semibold break-all">{data.name}</h1>
        <StatusBadge status={data.status} className="text-sm" />
        <span aria-live="polite" className="text-sm text-slate-600 dark:text-slate-300">
          {liveText[live]}
        </span>
      </div>
      <SuiteRunActions suiteRun={data} />
      <p className="text-slate-700 dark:text-slate-200">
        {passed} of {data.total} tests passed
        {data.flaky ? `, ${data.flaky} on retry` : ""}
        {data.muted ? `, ${data.muted} muted failure${data.muted === 1 ? "" : "s"} counted as passed` : ""}
      </p>
      {data.waiting_for ? <p className="text-amber-800 dark:text-amber-200">Waiting for {data.waiting_for}</p> : null}
      <Card>
        <dl className="grid grid-cols-2 gap-4 text-sm sm:grid-cols-4">
          <Fact label="Environment">{data.environment}</Fact>
          <Fact label="Trigger">{data.trigger}</Fact>
          <Fact label="Priority">{data.priority}</Fact>
          <Fact label="Created">{formatTime(data.created_at)}</Fact>
          <Fact label="Started">{formatTime(data.started_at)}</Fact>
          <Fact label="Finished">{formatTime(data.finished_at)}</Fact>
          <Fact label="Duration">{formatDuration(data.duration_ms)}</Fact>
        </dl>
      </Card>
      <section aria-labelledby="tests-heading" className="flex flex-col gap-2">
        <h2 id="tests-heading" className="text-lg font-semibold">
          Tests ({data.total})
        </h2>
        <Card>
          <RunRows suiteRun={data} />
        </Card>
      </section>
    </div>
  );
}
