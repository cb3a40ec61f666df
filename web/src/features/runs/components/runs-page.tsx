import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { DEFAULT_SORT, projectsQuery, runsQuery, type RunsSearch } from "@/features/runs/api/runs";
import { Card } from "@/shared/ui/card";
import { linkClass } from "@/shared/ui/styles";
import { Pager } from "./pager";
import { RunsFilters } from "./runs-filters";
import { RunsTable } from "./runs-table";

type Props = { search: RunsSearch; onSearchChange: (next: RunsSearch) => void };

/** Runs, filtered, sorted (newest first by default) and paged by the server; filters, order and page live in
 * the URL (the route owns them). */
export function RunsPage({ search, onSearchChange }: Props) {
  const runs = useQuery(runsQuery(search));
  const projects = useQuery(projectsQuery());
  const projectNames = new Map((projects.data?.items ?? []).map((p) => [p.id, p.name]));

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h1 className="text-2xl font-semibold">Runs</h1>
        <Link to="/failure-groups" search={search.project ? { project: search.project } : {}} className={`text-sm ${linkClass}`}>
          Failures grouped by cause
        </Link>
      </div>
      <RunsFilters search={search} onChange={onSearchChange} />
      <Card aria-busy={runs.isFetching}>
        {runs.isError ? (
          <p role="alert" className="text-red-700 dark:text-red-300">
            Could not load the runs: {runs.error.message}
          </p>
        ) : runs.data ? (
          <RunsTable
            runs={runs.data.items}
            projectNames={projectNames}
            sort={search.sort ?? DEFAULT_SORT}
            onSortChange={(sort) => onSearchChange({ ...search, page: 1, sort: sort === DEFAULT_SORT ? undefined : sort })}
            page={search.page}
            total={runs.data.total}
          />
        ) : (
          <p className="py-8 text-center text-slate-600 dark:text-slate-300">Loading runs…</p>
        )}
      </Card>
      <Pager
        label="Pages of runs"
        page={search.page}
        total={runs.data?.total ?? 0}
        onPage={(page) => onSearchChange({ ...search, page })}
      />
    </div>
  );
}
