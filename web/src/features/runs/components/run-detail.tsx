import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useRunEvents, type LiveState } from "@/features/runs/api/run-events";
import { runQuery, TERMINAL } from "@/features/runs/api/runs";
import { formatDuration, formatTime } from "@/shared/lib/format";
import { Card } from "@/shared/ui/card";
import { Fact } from "@/shared/ui/fact";
import { StatusBadge } from "@/shared/ui/status-badge";
import { ExplainFailure } from "./explain-failure";
import { RunActions } from "./run-actions";
import { StepTimeline } from "./step-timeline";

const liveText: Record<LiveState, string> = {
  connecting: "connecting to live updates…",
  live: "live: steps appear as they are committed",
  reconnecting: "connection lost, reconnecting…",
  ended: "",
  off: "",
};

export function RunDetail({ runId }: { runId: string }) {
  const run = useQuery(runQuery(runId));
  const follow = run.data !== undefined && !TERMINAL.has(run.data.status);
  const live = useRunEvents(runId, follow);

  if (run.isError) {
    return (
      <p role="alert" className="text-red-700 dark:text-red-300">
        Could not load the run: {run.error.message}
      </p>
    );
  }
  if (!run.data) return <p>Loading the run…</p>;
  const data = run.data;
  const steps = data.steps ?? [];
  return (
    <div className="flex flex-col gap-4">
      <Link to="/runs" search={{ page: 1 }} className="text-sm text-indigo-700 hover:underline dark:text-indigo-300">
        ← All runs
      </Link>
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-2xl font-semibold break-all">{data.name}</h1>
        <StatusBadge status={data.status} className="text-sm" />
        {data.flaky && data.retry_of ? (
          <Link to="/runs/$runId" params={{ runId: data.retry_of }} className="text-sm text-indigo-700 hover:underline dark:text-indigo-300">
            flaky: passed on retry of a failed run
          </Link>
        ) : null}
        {data.retried_by ? (
          <Link to="/runs/$runId" params={{ runId: data.retried_by }} className="text-sm text-indigo-700 hover:underline dark:text-indigo-300">
            retried: see its retry
          </Link>
        ) : null}
        <span aria-live="polite" className="text-sm text-slate-600 dark:text-slate-300">
          {liveText[live]}
        </span>
      </div>
      <div className="flex flex-wrap items-center gap-4">
        <RunActions run={data} />
        {data.status === "FAILED" || data.status === "ERROR" ? (
          <Link
            to="/runs/$runId/compare"
            params={{ runId }}
            search={{ with: "last_pass" }}
            className="text-sm font-medium text-indigo-700 hover:underline dark:text-indigo-300"
          >
            Compare with the last pass
          </Link>
        ) : null}
      </div>
      {data.suite_run_id ? (
        <Link
          to="/suite-runs/$suiteRunId"
          params={{ suiteRunId: data.suite_run_id }}
          className="text-sm text-indigo-700 hover:underline dark:text-indigo-300"
        >
          Part of a suite run: see all its tests
        </Link>
      ) : null}
      {data.status_reason ? <p className="text-slate-700 dark:text-slate-200">{data.status_reason}</p> : null}
      {data.waiting_for ? (
        <p className="text-amber-800 dark:text-amber-200">Waiting for {data.waiting_for}</p>
      ) : null}
      <Card>
        <dl className="grid grid-cols-2 gap-4 text-sm sm:grid-cols-4">
          <Fact label="Environment">{data.environment}</Fact>
          <Fact label="Trigger">{data.trigger}</Fact>
          <Fact label="Version">v{data.test_case_version}</Fact>
          <Fact label="Attempt">{data.attempt}</Fact>
          <Fact label="Created">{formatTime(data.created_at)}</Fact>
          <Fact label="Started">{formatTime(data.started_at)}</Fact>
          <Fact label="Finished">{formatTime(data.finished_at)}</Fact>
          <Fact label="Duration">{formatDuration(data.duration_ms)}</Fact>
        </dl>
      </Card>
      {data.status === "FAILED" || data.status === "ERROR" || data.status === "TIMED_OUT" ? (
        <ExplainFailure key={runId} runId={runId} />
      ) : null}
      <section aria-labelledby="steps-heading" className="flex flex-col gap-2">
        <h2 id="steps-heading" className="text-lg font-semibold">
          Steps ({steps.length})
        </h2>
        {steps.length === 0 ? (
          <p className="text-slate-600 dark:text-slate-300">No step has been committed yet.</p>
        ) : (
          <StepTimeline key={runId} steps={steps} live={follow} labelledBy="steps-heading" />
        )}
      </section>
    </div>
  );
}
