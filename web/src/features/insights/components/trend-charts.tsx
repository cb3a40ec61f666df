import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import type { Trends } from "@/features/insights/api/insights";
import { formatDuration } from "@/shared/lib/format";
import { Card } from "@/shared/ui/card";
import { mutedClass } from "@/shared/ui/styles";

function bucketLabel(start: string, bucket: Trends["bucket"]): string {
  const date = new Date(start);
  return bucket === "hour"
    ? date.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit" })
    : date.toLocaleDateString(undefined, { month: "short", day: "numeric" });
}

/** Pass rate and duration percentiles per time bucket, as charts and (for screen readers and exact figures)
 * as a table. */
export function TrendCharts({ trends }: { trends: Trends }) {
  const rows = trends.buckets.map((bucket) => ({
    label: bucketLabel(bucket.start, trends.bucket),
    passRate: bucket.pass_rate === null ? null : Math.round(bucket.pass_rate * 100),
    p50: bucket.duration_p50_ms,
    p95: bucket.duration_p95_ms,
    runs: bucket.runs,
  }));
  if (rows.length === 0) return <p className={mutedClass}>No finished run in the window.</p>;
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <Card aria-label="Pass rate per bucket">
        <h3 className="mb-2 font-semibold">Pass rate (per {trends.bucket})</h3>
        <div className="h-56" aria-hidden="true">
          <ResponsiveContainer width="100%" height="100%">
            <BarChart data={rows} accessibilityLayer={false}>
              <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.4} />
              <XAxis dataKey="label" fontSize={12} />
              <YAxis domain={[0, 100]} unit=" %" fontSize={12} width={48} />
              <Tooltip formatter={(value) => `${String(value)} %`} />
              <Bar dataKey="passRate" name="pass rate" fill="#059669" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </div>
      </Card>
      <Card aria-label="Duration per bucket">
        <h3 className="mb-2 font-semibold">Duration p50 / p95</h3>
        <div className="h-56" aria-hidden="true">
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={rows} accessibilityLayer={false}>
              <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.4} />
              <XAxis dataKey="label" fontSize={12} />
              <YAxis fontSize={12} width={64} tickFormatter={(value: number) => formatDuration(value)} />
              <Tooltip formatter={(value) => formatDuration(typeof value === "number" ? value : null)} />
              <Legend />
              <Line dataKey="p50" name="p50" stroke="#4f46e5" dot={false} isAnimationActive={false} connectNulls />
              <Line dataKey="p95" name="p95" stroke="#d97706" dot={false} isAnimationActive={false} connectNulls />
            </LineChart>
          </ResponsiveContainer>
        </div>
      </Card>
      <details className="lg:col-span-2">
        <summary className="cursor-pointer text-sm">The figures as a table</summary>
        <table className="mt-2 w-full max-w-2xl text-left text-sm">
          <thead className="text-xs uppercase text-slate-600 dark:text-slate-300">
            <tr>
              <th scope="col" className="py-1 pr-3">{trends.bucket}</th>
              <th scope="col" className="py-1 pr-3 text-right">Runs</th>
              <th scope="col" className="py-1 pr-3 text-right">Pass rate</th>
              <th scope="col" className="py-1 pr-3 text-right">p50</th>
              <th scope="col" className="py-1 pr-3 text-right">p95</th>
            </tr>
          </thead>
          <tbody className="tabular-nums">
            {rows.map((row, index) => (
              <tr key={index} className="border-t border-slate-100 dark:border-slate-800">
                <th scope="row" className="py-1 pr-3 font-normal">{row.label}</th>
                <td className="py-1 pr-3 text-right">{row.runs}</td>
                <td className="py-1 pr-3 text-right">{row.passRate === null ? "—" : `${row.passRate} %`}</td>
                <td className="py-1 pr-3 text-right">{formatDuration(row.p50)}</td>
                <td className="py-1 pr-3 text-right">{formatDuration(row.p95)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}
