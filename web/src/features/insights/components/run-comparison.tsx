import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useState } from "react";
import {
  comparisonQuery,
  LAST_PASS,
  shortValue,
  type Comparison,
  type Difference,
  type StepComparison,
} from "@/features/insights/api/insights";
import { ApiError } from "@/shared/api/client";
import { formatDuration, formatTime } from "@/shared/lib/format";
import { Card } from "@/shared/ui/card";
import { StatusBadge } from "@/shared/ui/status-badge";
import { linkClass, mutedClass } from "@/shared/ui/styles";

const changeText: Record<Difference["change"], string> = { added: "added", removed: "removed", changed: "changed" };

function Side({ title, side }: { title: string; side: Comparison["left"] }) {
  return (
    <Card aria-label={title} className="flex-1">
      <h2 className="mb-2 text-sm font-semibold uppercase text-slate-600 dark:text-slate-300">{title}</h2>
      <p className="flex flex-wrap items-center gap-2">
        <StatusBadge status={side.status} />
        <Link to="/runs/$runId" params={{ runId: side.id }} className={linkClass}>
          {formatTime(side.created_at)}
        </Link>
      </p>
      <p className={`mt-1 text-sm ${mutedClass}`}>
        {side.environment} · v{side.test_case_version} · {formatDuration(side.duration_ms)}
      </p>
    </Card>
  );
}

/** Differences of two JSON values (bodies or variables), path by path, as text. */
export function Differences({ items, caption }: { items: Difference[]; caption: string }) {
  if (items.length === 0) return <p className={`text-sm ${mutedClass}`}>No difference.</p>;
  return (
    <table className="w-full text-left text-sm">
      <caption className="sr-only">{caption}</caption>
      <thead className="text-xs uppercase text-slate-600 dark:text-slate-300">
        <tr>
          <th scope="col" className="py-1 pr-3">Path</th>
          <th scope="col" className="py-1 pr-3">Change</th>
          <th scope="col" className="py-1 pr-3">Left</th>
          <th scope="col" className="py-1 pr-3">Right</th>
        </tr>
      </thead>
      <tbody>
        {items.map((item, index) => (
          <tr key={index} className="border-t border-slate-100 align-top dark:border-slate-800">
            <th scope="row" className="py-1 pr-3 font-mono text-xs font-normal break-all">{item.path}</th>
            <td className="py-1 pr-3">{changeText[item.change]}</td>
            <td className="py-1 pr-3 font-mono text-xs break-all">
              {item.change === "added" ? "—" : shortValue(item.left)}
            </td>
            <td className="py-1 pr-3 font-mono text-xs break-all">
              {item.change === "removed" ? "—" : shortValue(item.right)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function verdict(passed: boolean | null): string {
  return passed === null ? "—" : passed ? "passed" : "failed";
}

function StepRow({ step }: { step: StepComparison }) {
  const changedChecks = step.checks.filter((check) => check.left_passed !== check.right_passed);
  return (
    <li className="rounded-md border border-slate-200 dark:border-slate-700">
      <details open={!step.same}>
        <summary className="flex cursor-pointer flex-wrap items-center gap-3 px-3 py-2 text-sm">
          <span className="font-medium break-all">{step.name}</span>
          <span className={mutedClass}>{step.phase}</span>
          <span className="ml-auto flex items-center gap-2">
            {step.left_status ? <StatusBadge status={step.left_status} /> : <span className={mutedClass}>absent</span>}
            <span aria-hidden="true">→</span>
            <span className="sr-only">then</span>
            {step.right_status ? <StatusBadge status={step.right_status} /> : <span className={mutedClass}>absent</span>}
          </span>
          {step.same ? <span className={`text-xs ${mutedClass}`}>same</span> : null}
        </summary>
        <div className="flex flex-col gap-3 border-t border-slate-100 px-3 py-2 dark:border-slate-800">
          <p className="text-sm">
            Response {step.left_response_status ?? "—"} → {step.right_response_status ?? "—"} · duration{" "}
            {formatDuration(step.left_duration_ms)} → {formatDuration(step.right_duration_ms)}
          </p>
          {step.checks.length > 0 ? (
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Checks of the step in both runs</caption>
              <thead className="text-xs uppercase text-slate-600 dark:text-slate-300">
                <tr>
                  <th scope="col" className="py-1 pr-3">Check</th>
                  <th scope="col" className="py-1 pr-3">Expected</th>
                  <th scope="col" className="py-1 pr-3">Left</th>
                  <th scope="col" className="py-1 pr-3">Right</th>
                </tr>
              </thead>
              <tbody>
                {step.checks.map((check, index) => (
                  <tr
                    key={index}
                    className={`border-t border-slate-100 align-top dark:border-slate-800 ${
                      changedChecks.includes(check) ? "bg-amber-50 dark:bg-amber-950/40" : ""
                    }`}
                  >
                    <th scope="row" className="py-1 pr-3 font-mono text-xs font-normal break-all">{check.check}</th>
                    <td className="py-1 pr-3 font-mono text-xs break-all">{shortValue(check.expected)}</td>
                    <td className="py-1 pr-3 text-xs break-all">
                      {verdict(check.left_passed)} · <span className="font-mono">{shortValue(check.left_actual)}</span>
                    </td>
                    <td className="py-1 pr-3 text-xs break-all">
                      {verdict(check.right_passed)} · <span className="font-mono">{shortValue(check.right_actual)}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          <div>
            <h4 className="text-xs font-semibold uppercase text-slate-600 dark:text-slate-300">Response body</h4>
            <Differences items={step.body} caption="Differences of the response bodies" />
          </div>
        </div>
      </details>
    </li>
  );
}

type Props = { runId: string; other: string };

/** Two runs of one test case side by side: every step's verdicts, checks, response and body differences, and
 * the variables the runs ended with. */
export function RunComparison({ runId, other }: Props) {
  const comparison = useQuery(comparisonQuery(runId, other));
  const [onlyDifferent, setOnlyDifferent] = useState(true);
  const back = (
    <Link to="/runs/$runId" params={{ runId }} className={`text-sm ${linkClass}`}>
      ← The run
    </Link>
  );
  if (comparison.isError) {
    const error = comparison.error;
    const noPass = other === LAST_PASS && error instanceof ApiError && error.status === 404;
    return (
      <div className="flex flex-col gap-3">
        {back}
        <p role="alert" className="text-red-700 dark:text-red-300">
          {noPass
            ? "There is no passing run of this test case on this environment before this run to compare it with."
            : `Could not compare the runs: ${error.message}`}
        </p>
      </div>
    );
  }
  if (!comparison.data) return <p>Comparing the runs…</p>;
  const data = comparison.data;
  const steps = onlyDifferent ? data.steps.filter((step) => !step.same) : data.steps;
  return (
    <div className="flex flex-col gap-4">
      {back}
      <h1 className="text-2xl font-semibold">Comparing two runs</h1>
      <div className="flex flex-col gap-3 sm:flex-row">
        <Side title="Left" side={data.left} />
        <Side title={other === LAST_PASS ? "Right: the last pass before it" : "Right"} side={data.right} />
      </div>
      <section aria-labelledby="compared-steps" className="flex flex-col gap-2">
        <div className="flex flex-wrap items-center justify-between gap-2">
          <h2 id="compared-steps" className="text-lg font-semibold">
            Steps ({data.steps.filter((step) => !step.same).length} of {data.steps.length} differ)
          </h2>
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={onlyDifferent} onChange={(event) => setOnlyDifferent(event.target.checked)} />
            Only the steps that differ
          </label>
        </div>
        {steps.length === 0 ? (
          <p className={mutedClass}>{onlyDifferent ? "Every step is the same in both runs." : "No step."}</p>
        ) : (
          <ol className="flex flex-col gap-2">
            {steps.map((step, index) => (
              <StepRow key={`${step.phase}/${step.name}/${index}`} step={step} />
            ))}
          </ol>
        )}
      </section>
      <section aria-labelledby="compared-variables" className="flex flex-col gap-2">
        <h2 id="compared-variables" className="text-lg font-semibold">
          Variables
        </h2>
        <Differences items={data.captured} caption="Differences of the runs' variables" />
      </section>
    </div>
  );
}
