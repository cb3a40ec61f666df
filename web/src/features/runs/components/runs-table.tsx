import type { ColumnDef } from "@tanstack/react-table";
import { Link } from "@tanstack/react-router";
import { DEFAULT_SORT, type Run, type RunSort } from "@/features/runs/api/runs";
import { formatDuration, formatTime } from "@/shared/lib/format";
import { StatusBadge } from "@/shared/ui/status-badge";
import { direction, ServerSortedTable } from "./server-sorted-table";

type Props = {
  runs: Run[];
  projectNames: Map<string, string>;
  sort: RunSort;
  onSortChange: (next: RunSort) => void;
  /** The page shown (1-based) and how many runs match: paging is the server's, not the table's. */
  page?: number;
  total?: number;
};

const SORT_NAMES: Record<string, string> = {
  name: "test name",
  status: "status",
  created_at: "creation time",
  duration: "duration",
};

function caption(sort: RunSort): string {
  if (sort === DEFAULT_SORT) return "Runs, newest first";
  if (sort === "created_at") return "Runs, oldest first";
  return `Runs by ${SORT_NAMES[sort.replace(/^-/, "")]}, ${direction(sort)}`;
}

function columns(projectNames: Map<string, string>): ColumnDef<Run>[] {
  return [
    {
      id: "name",
      header: "Test",
      cell: ({ row: { original: run } }) => (
        <>
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
        </>
      ),
    },
    {
      id: "status",
      header: "Status",
      cell: ({ row: { original: run } }) => (
        <>
          <StatusBadge status={run.status} />
          {run.flaky ? <StatusBadge status="flaky" className="ml-1" /> : null}
          {run.retried_by ? <StatusBadge status="retried" className="ml-1" /> : null}
        </>
      ),
    },
    {
      id: "project",
      header: "Project",
      cell: ({ row: { original: run } }) => projectNames.get(run.project_id) ?? run.project_id.slice(0, 8),
    },
    { id: "environment", header: "Environment", cell: ({ row: { original: run } }) => run.environment },
    { id: "trigger", header: "Trigger", cell: ({ row: { original: run } }) => run.trigger },
    { id: "created_at", header: "Created", cell: ({ row: { original: run } }) => formatTime(run.created_at) },
    { id: "duration", header: "Duration", cell: ({ row: { original: run } }) => formatDuration(run.duration_ms) },
  ];
}

/** One page of runs; the server sorts and pages them (the table only shows its order and asks for another). */
export function RunsTable({ runs, projectNames, sort, onSortChange, page = 1, total = runs.length }: Props) {
  return (
    <ServerSortedTable
      rows={runs}
      rowId={(run) => run.id}
      columns={columns(projectNames)}
      sort={sort}
      onSortChange={onSortChange}
      caption={caption(sort)}
      empty="No runs match these filters."
      page={page}
      total={total}
    />
  );
}
