// A page of a list the server sorts and pages (TanStack Table in manual mode): the headers of the columns
// named after a sort key show the order and ask for another; the table itself never reorders its rows.
import {
  type ColumnDef,
  flexRender,
  getCoreRowModel,
  type SortingState,
  type Updater,
  useReactTable,
} from "@tanstack/react-table";
import { DEFAULT_SORT, PAGE_SIZE, type ListSort } from "@/features/runs/api/list-search";

// The columns the API can sort by are named after their sort key.
const SORTABLE = new Set(["name", "status", "created_at", "duration"]);
// Times and durations are first wanted largest first; names and statuses alphabetically.
const DESCENDING_FIRST = new Set(["created_at", "duration"]);

type Props<Row> = {
  rows: Row[];
  rowId: (row: Row) => string;
  columns: ColumnDef<Row>[];
  sort: ListSort;
  onSortChange: (next: ListSort) => void;
  /** The table's caption (for screen readers): what is listed, in which order. */
  caption: string;
  empty: string;
  /** The page shown (1-based) and how many rows match: paging is the server's, not the table's. */
  page: number;
  total: number;
};

// Times stay on one line; durations line up on the right.
const CELL_CLASS: Record<string, string> = {
  created_at: "py-2 pr-3 whitespace-nowrap",
  duration: "py-2 text-right tabular-nums",
};
const HEADER_CLASS: Record<string, string> = { duration: "py-2 text-right" };

function sortingOf(sort: ListSort): SortingState {
  return [{ id: sort.replace(/^-/, ""), desc: sort.startsWith("-") }];
}

function sortOf(sorting: SortingState): ListSort {
  const first = sorting[0];
  return first ? ((first.desc ? `-${first.id}` : first.id) as ListSort) : DEFAULT_SORT;
}

/** "descending" or "ascending" for a sort other than by creation time. */
export function direction(sort: ListSort): string {
  return sort.startsWith("-") ? "descending" : "ascending";
}

export function ServerSortedTable<Row>({
  rows,
  rowId,
  columns,
  sort,
  onSortChange,
  caption,
  empty,
  page,
  total,
}: Props<Row>) {
  const sorting = sortingOf(sort);
  // eslint-disable-next-line react-hooks/incompatible-library -- the table is read while rendering, as designed
  const table = useReactTable({
    data: rows,
    columns: columns.map((column) => ({ ...column, enableSorting: SORTABLE.has(column.id ?? "") })),
    getCoreRowModel: getCoreRowModel(),
    getRowId: rowId,
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
  if (rows.length === 0) {
    return <p className="py-8 text-center text-slate-600 dark:text-slate-300">{empty}</p>;
  }
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <caption className="sr-only">{caption}</caption>
        <thead className="border-b border-slate-200 text-xs uppercase text-slate-600 dark:border-slate-700 dark:text-slate-300">
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const id = header.column.id;
                const label = flexRender(header.column.columnDef.header, header.getContext());
                const sortable = SORTABLE.has(id);
                const sorted = header.column.getIsSorted();
                return (
                  <th
                    key={header.id}
                    scope="col"
                    className={HEADER_CLASS[id] ?? "py-2 pr-3"}
                    aria-sort={
                      !sortable ? undefined : sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : "none"
                    }
                  >
                    {sortable ? (
                      <button
                        type="button"
                        className="inline-flex items-center gap-1 uppercase hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:hover:text-white"
                        onClick={() => header.column.toggleSorting(sorted ? sorted === "asc" : DESCENDING_FIRST.has(id))}
                      >
                        {label}
                        <span aria-hidden="true">{sorted === "asc" ? "▲" : sorted === "desc" ? "▼" : "↕"}</span>
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
