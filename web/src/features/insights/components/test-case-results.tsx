import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useState } from "react";
import {
  flakinessQuery,
  lastFailureAndPass,
  LAST_PASS,
  parseWindow,
  testCaseRunsQuery,
  trendsQuery,
  WINDOWS,
  type Flakiness,
  type Window,
} from "@/features/insights/api/insights";
import { formatDuration, formatTime } from "@/shared/lib/format";
import { Card } from "@/shared/ui/card";
import { StatusBadge } from "@/shared/ui/status-badge";
import { linkClass, mutedClass, selectClass } from "@/shared/ui/styles";
import { TestCaseMutes } from "./test-case-mutes";
import { TrendCharts } from "./trend-charts";

const classificationText: Record<Flakiness["classification"], string> = {
  healthy: "Healthy: its latest run passed, and no version's verdict went both ways",
  flaky: "Flaky: the verdict of one version on one environment went both ways without a change, or a failure passed on retry",
  broken: "Broken: its latest run failed, and no version's verdict went both ways (a regression, not flakiness)",
};

function Stat({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <dt className="text-xs uppercase text-slate-600 dark:text-slate-400">{label}</dt>
      <dd className="text-lg font-semibold">{children}</dd>
    </div>
  );
}

function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `${Math.round(value * 100)} %`;
}

type Props = { project: string; testCase: string };

/** How a test case has fared: pass rate and durations over time, flakiness, the steps that fail most, and its
 * latest runs, any two of which can be compared. */
export function TestCaseResults({ project, testCase }: Props) {
  const [days, setDays] = useState<Window>(30);
  const trends = useQuery(trendsQuery(project, testCase, days));
  const flakiness = useQuery(flakinessQuery(project, testCase, days));
  const runs = useQuery(testCaseRunsQuery(project, testCase));
  const [picked, setPicked] = useState<string[]>([]);

  const error = trends.error ?? flakiness.error ?? runs.error;
  if (error) {
    return (
      <p role="alert" className="text-red-700 dark:text-red-300">
        Could not load the results: {error.message}
      </p>
    );
  }
  const items = runs.data?.items ?? [];
  const totals = (trends.data?.buckets ?? []).reduce(
    (sum, bucket) => ({ runs: sum.runs + bucket.runs, passes: sum.passes + bucket.passes }),
    { runs: 0, passes: 0 },
  );
  const pair = lastFailureAndPass(items);
  const [left, right] = picked;
  const toggle = (id: string) =>
    setPicked((now) => (now.includes(id) ? now.filter((each) => each !== id) : [...now.slice(-1), id]));

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <label className="flex flex-col gap-1 text-sm">
          <span className={mutedClass}>Window</span>
          <select
            className={selectClass}
            value={days}
            onChange={(event) => setDays(parseWindow(event.target.value))}
          >
            {WINDOWS.map((each) => (
              <option key={each} value={each}>
                last {each} days
              </option>
            ))}
          </select>
        </label>
        <div className="flex flex-col items-end gap-1">
          {pair ? (
            <Link
              to="/runs/$runId/compare"
              params={{ runId: pair.failed }}
              search={{ with: pair.passed }}
              className={`text-sm ${linkClass}`}
            >
              Compare the last failure with the pass before it
            </Link>
          ) : null}
          <Link to="/failure-groups" search={{ project }} className={`text-sm ${linkClass}`}>
            The project's failures grouped by cause
          </Link>
        </div>
      </div>

      <Card aria-label="Summary">
        <dl className="grid grid-cols-2 gap-4 sm:grid-cols-4">
          <Stat label="Finished runs">{trends.data ? totals.runs : "…"}</Stat>
          <Stat label="Pass rate">{trends.data ? percent(totals.runs ? totals.passes / totals.runs : null) : "…"}</Stat>
          <Stat label="Flakiness">
            {flakiness.isPending ? "…" : flakiness.data ? flakiness.data.score.toFixed(2) : "—"}
          </Stat>
          <Stat label="Recovered failures">
            {flakiness.isPending ? "…" : flakiness.data ? flakiness.data.recoveries : "—"}
          </Stat>
        </dl>
        {flakiness.data ? (
          <p className="mt-3 text-sm">
            <StatusBadge status={flakiness.data.classification} className="mr-2" />
            {classificationText[flakiness.data.classification]} ({flakiness.data.flips} flips in{" "}
            {flakiness.data.transitions} consecutive pairs
            {flakiness.data.passed_on_retry ? `; ${flakiness.data.passed_on_retry} passed on retry` : ""}).
          </p>
        ) : null}
      </Card>

      <TestCaseMutes project={project} testCase={testCase} />

      {trends.data ? <TrendCharts trends={trends.data} /> : <p className={mutedClass}>Loading the trends…</p>}

      <section aria-labelledby="failing-steps" className="flex flex-col gap-2">
        <h3 id="failing-steps" className="font-semibold">
          Steps that fail most
        </h3>
        {trends.data && trends.data.failures_by_step.length === 0 ? (
          <p className={mutedClass}>No step failed in the window.</p>
        ) : (
          <table className="w-full max-w-2xl text-left text-sm">
            <thead className="text-xs uppercase text-slate-600 dark:text-slate-300">
              <tr>
                <th scope="col" className="py-1 pr-3">Step</th>
                <th scope="col" className="py-1 pr-3">Phase</th>
                <th scope="col" className="py-1 pr-3 text-right">Failures</th>
              </tr>
            </thead>
            <tbody>
              {(trends.data?.failures_by_step ?? []).map((step) => (
                <tr key={`${step.phase}/${step.name}`} className="border-t border-slate-100 dark:border-slate-800">
                  <th scope="row" className="py-1.5 pr-3 font-normal break-all">{step.name}</th>
                  <td className="py-1.5 pr-3">{step.phase}</td>
                  <td className="py-1.5 pr-3 text-right tabular-nums">{step.failures}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="latest-runs" className="flex flex-col gap-2">
        <div className="flex flex-wrap items-center justify-between gap-2">
          <h3 id="latest-runs" className="font-semibold">
            Latest runs
          </h3>
          {left && right ? (
            <Link
              to="/runs/$runId/compare"
              params={{ runId: left }}
              search={{ with: right }}
              className={`text-sm ${linkClass}`}
            >
              Compare the two selected runs
            </Link>
          ) : (
            <span className={`text-sm ${mutedClass}`}>Select two runs to compare them.</span>
          )}
        </div>
        {runs.data && items.length === 0 ? <p className={mutedClass}>This test case has not run yet.</p> : null}
        <ul className="flex flex-col divide-y divide-slate-100 dark:divide-slate-800">
          {items.map((run) => (
            <li key={run.id} className="flex flex-wrap items-center gap-3 py-1.5 text-sm">
              <input
                type="checkbox"
                aria-label={`Select the run of ${formatTime(run.created_at)} to compare`}
                checked={picked.includes(run.id)}
                onChange={() => toggle(run.id)}
              />
              <StatusBadge status={run.status} />
              <Link to="/runs/$runId" params={{ runId: run.id }} className={linkClass}>
                {formatTime(run.created_at)}
              </Link>
              <span className={mutedClass}>
                {run.environment} · v{run.test_case_version} · {formatDuration(run.duration_ms)}
              </span>
              {run.status === "FAILED" || run.status === "ERROR" ? (
                <Link
                  to="/runs/$runId/compare"
                  params={{ runId: run.id }}
                  search={{ with: LAST_PASS }}
                  className={`ml-auto ${linkClass}`}
                >
                  compare with the last pass
                </Link>
              ) : null}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
