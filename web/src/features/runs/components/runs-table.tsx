import {
  type ColumnDef,
  flexRender,
  getCoreRowModel,
  type SortingState,
  type Updater,
  useReactTable,
} from "@tanstack/react-table";
import { Link } from "@tanstack/react-router";
import { DEFAULT_SORT, PAGE_SIZE, type Run, type RunSort } from "@/features/runs/api/runs";
import { formatDuration, formatTime } from "@/shared/lib/format";
import { StatusBadge } from "@/shared/ui/status-badge";

type Props = {
  runs: Run[];
  projectNames: Map<string, string>;
  sort: RunSort;
  onSortChange: (next: RunSort) => void;
  /** The page shown (1-based) and how many runs match: paging is the server's, not the table's. */
  page?: number;
  total?: number;
};

// The columns the API can sort by are named after their sort key.
const SORTABLE = new Set(["name", "status", "created_at", "duration"]);
// Times and durations are first wanted largest first; names and statuses alphabetically.
const DESCENDING_FIRST = new Set(["created_at", "duration"]);
const SORT_NAMES: Record<string, string> = {
  name: "test name",
  status: "status",
  created_at: "creation time",
  duration: "duration",
};

function sortingOf(sort: RunSort): SortingState {
  return [{ id: sort.replace(/^-/, ""), desc: sort.startsWith("-") }];
}

function sortOf(sorting: SortingState): RunSort {
  const first = sorting[0];
  return first ? ((first.desc ? `-${first.id}` : first.id) as RunSort) : DEFAULT_SORT;
}

function caption(sort: RunSort): string {
  if (sort === DEFAULT_SORT) return "Runs, newest first";
  if (sort === "created_at") return "Runs, oldest first";
  const key = sort.replace(/^-/, "");
  return `Runs by ${SORT_NAMES[key]}, ${sort.startsWith("-") ? "descending" : "ascending"}`;
}

function columns(projectNames: Map<string, string>): ColumnDef<Run>[] {
  const all: ColumnDef<Run>[] = [
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
  return all.map((column) => ({ ...column, enableSorting: SORTABLE.has(column.id ?? "") }));
}

const CELL_CLASS: Record<string, string> = {
  created_at: "py-2 pr-3 whitespace-nowrap",
  duration: "py-2 text-right tabular-nums",
};
const HEADER_CLASS: Record<string, string> = { duration: "py-2 text-right" };

/** One page of runs; the server sorts and pages them (the table only shows its order and asks for another). */
export function RunsTable({ runs, projectNames, sort, onSortChange, page = 1, total = runs.length }: Props) {
  const sorting = sortingOf(sort);
  // eslint-disable-next-line react-hooks/incompatible-library -- the table is read while rendering, as designed
  const table = useReactTable({
    data: runs,
    columns: columns(projectNames),
    getCoreRowModel: getCoreRowModel(),
    getRowId: (run) => run.id,
    manualSorting: true,
    manualPagination: true,
    rowCount: total,
    state: { sorting, pagination: { pageIndex: page - 1, pageSize: PAGE_SIZE } },
    onSortingChange: (updater: Updater<SortingState>) =>
      onSortChange(sortOf(typeof updater === "function" ? updater(sorting) : updater)),
    enableMultiSort: false,
    enableSortingRemoval: false,
    enableColumnFilters: false,
    defaultColumn: { enableSorting: false },
  });
  if (runs.length === 0) {
    return <p className="py-8 text-center text-slate-600 dark:text-slate-300">No runs match these filters.</p>;
  }
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <caption className="sr-only">{caption(sort)}</caption>
        <thead className="border-b border-slate-200 text-xs uppercase text-slate-600 dark:border-slate-700 dark:text-slate-300">
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const id = header.column.id;
                const label = flexRender(header.column.columnDef.header, header.getContext());
                const sortable = SORTABLE.has(id);
                const direction = header.column.getIsSorted();
                return (
                  <th
                    key={header.id}
                    scope="col"
                    className={HEADER_CLASS[id] ?? "py-2 pr-3"}
                    aria-sort={
                      !sortable ? undefined : direction === "asc" ? "ascending" : direction === "desc" ? "descending" : "none"
                    }
                  >
                    {sortable ? (
                      <button
                        type="button"
                        className="inline-flex items-center gap-1 uppercase hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:hover:text-white"
                        onClick={() => header.column.toggleSorting(direction ? direction === "asc" : DESCENDING_FIRST.has(id))}
                      >
                        {label}
                        <span aria-hidden="true">{direction === "asc" ? "▲" : direction === "desc" ? "▼" : "↕"}</span>
                      </button>
                    ) : (
                      label
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr key={row.id} className="border-b border-slate-100 last:border-0 dark:border-slate-800">
              {row.getVisibleCells().map((cell) => (
                <td key={cell.id} className={CELL_CLASS[cell.column.id] ?? "py-2 pr-3"}>
                  {flexRender(cell.column.columnDef.cell, cell.getContext())}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
