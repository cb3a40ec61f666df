import { Link } from "@tanstack/react-router";
import type { ColumnDef } from "@tanstack/react-table";
import { DEFAULT_SORT, type ListSort } from "@/features/runs/api/list-search";
import type { SuiteRun } from "@/features/runs/api/suite-runs";
import { formatDuration, formatTime } from "@/shared/lib/format";
import { StatusBadge } from "@/shared/ui/status-badge";
import { direction, ServerSortedTable } from "./server-sorted-table";

type Props = {
  suiteRuns: SuiteRun[];
  projectNames: Map<string, string>;
  sort: ListSort;
  onSortChange: (next: ListSort) => void;
  /** The page shown (1-based) and how many suite runs match: paging is the server's. */
  page: number;
  total: number;
};

const SORT_NAMES: Record<string, string> = {
  name: "name",
  status: "status",
  created_at: "creation time",
  duration: "duration",
};

function caption(sort: ListSort): string {
  if (sort === DEFAULT_SORT) return "Suite runs, newest first";
  if (sort === "created_at") return "Suite runs, oldest first";
  return `Suite runs by ${SORT_NAMES[sort.replace(/^-/, "")]}, ${direction(sort)}`;
}

/** "3 of 4 passed" (muted failures and passes on retry count as passed, as in the suite run's status). */
function tally(suiteRun: SuiteRun): string {
  return `${suiteRun.counts.PASSED ?? 0} of ${suiteRun.total} passed`;
}

function columns(projectNames: Map<string, string>): ColumnDef<SuiteRun>[] {
  return [
    {
      id: "name",
      header: "Suite run",
      cell: ({ row: { original: suiteRun } }) => (
        <>
          <Link
            to="/suite-runs/$suiteRunId"
            params={{ suiteRunId: suiteRun.id }}
            className="font-medium text-indigo-700 hover:underline focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-indigo-300"
          >
            {suiteRun.name}
          </Link>
          {suiteRun.waiting_for ? (
            <div className="text-xs text-slate-600 dark:text-slate-400">waiting for {suiteRun.waiting_for}</div>
          ) : null}
        </>
      ),
    },
    {
      id: "status",
      header: "Status",
      cell: ({ row: { original: suiteRun } }) => (
        <>
          <StatusBadge status={suiteRun.status} />
          {suiteRun.flaky ? <StatusBadge status="flaky" className="ml-1" /> : null}
        </>
      ),
    },
    {
      id: "tests",
      header: "Tests",
      cell: ({ row: { original: suiteRun } }) => tally(suiteRun),
    },
    {
      id: "project",
      header: "Project",
      cell: ({ row: { original: suiteRun } }) => projectNames.get(suiteRun.project_id) ?? suiteRun.project_id.slice(0, 8),
    },
    { id: "environment", header: "Environment", cell: ({ row: { original: suiteRun } }) => suiteRun.environment },
    { id: "trigger", header: "Trigger", cell: ({ row: { original: suiteRun } }) => suiteRun.trigger },
    { id: "created_at", header: "Created", cell: ({ row: { original: suiteRun } }) => formatTime(suiteRun.created_at) },
    {
      id: "duration",
      header: "Duration",
      cell: ({ row: { original: suiteRun } }) => formatDuration(suiteRun.duration_ms),
    },
  ];
}

/** One page of suite runs; the server sorts and pages them. */
export function SuiteRunsTable({ suiteRuns, projectNames, sort, onSortChange, page, total }: Props) {
  return (
    <ServerSortedTable
      rows={suiteRuns}
      rowId={(suiteRun) => suiteRun.id}
      columns={columns(projectNames)}
      sort={sort}
      onSortChange={onSortChange}
      caption={caption(sort)}
      empty="No suite runs match these filters."
      page={page}
      total={total}
    />
  );
}
