import { asText } from "@/shared/lib/format";
import { StatusBadge } from "@/shared/ui/status-badge";

/** One check of a step as the executor recorded it (steps/expectations.py: AssertionResult.to_dict). */
export type Check = {
  check?: unknown;
  name?: unknown;
  passed?: unknown;
  outcome?: unknown;
  reason?: unknown;
  expected?: unknown;
  actual?: unknown;
  message?: unknown;
};

/** What a recorded check came to: a skipped check (its status check failed first) was not evaluated. */
export function checkVerdict(check: Check): "passed" | "failed" | "skipped" {
  if (check.outcome === "skipped") return "skipped";
  return check.passed === true ? "passed" : "failed";
}

function Value({ value }: { value: unknown }) {
  return <pre className="font-mono text-xs whitespace-pre-wrap break-all">{asText(value)}</pre>;
}

/** Every check with what was expected and what was got, as text. */
export function ChecksTable({ checks }: { checks: Check[] }) {
  if (checks.length === 0) return <p className="text-sm text-slate-600 dark:text-slate-300">This step had no checks.</p>;
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <caption className="sr-only">Checks: expected and actual values</caption>
        <thead className="text-xs uppercase text-slate-600 dark:text-slate-300">
          <tr>
            <th scope="col" className="py-1 pr-3">Check</th>
            <th scope="col" className="py-1 pr-3">Result</th>
            <th scope="col" className="py-1 pr-3">Expected</th>
            <th scope="col" className="py-1 pr-3">Actual</th>
          </tr>
        </thead>
        <tbody>
          {checks.map((check, index) => (
            <tr key={index} className="border-t border-slate-100 align-top dark:border-slate-800">
              <th scope="row" className="py-1.5 pr-3 font-mono text-xs font-normal">
                {typeof check.name === "string" && check.name ? (
                  <div className="font-sans font-medium">{check.name}</div>
                ) : null}
                {asText(check.check)}
                {checkVerdict(check) === "skipped" && typeof check.reason === "string" ? (
                  <div className="mt-1 font-sans text-slate-600 dark:text-slate-300">skipped: {check.reason}</div>
                ) : null}
                {checkVerdict(check) === "failed" && typeof check.message === "string" && check.message ? (
                  <div className="mt-1 font-sans text-red-700 dark:text-red-300">{check.message}</div>
                ) : null}
              </th>
              <td className="py-1.5 pr-3">
                <StatusBadge status={checkVerdict(check)} />
              </td>
              <td className="py-1.5 pr-3">
                <Value value={check.expected} />
              </td>
              <td className="py-1.5 pr-3">
                <Value value={check.actual} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
