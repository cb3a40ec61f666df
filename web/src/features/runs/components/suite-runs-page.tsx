import { useQuery } from "@tanstack/react-query";
import { DEFAULT_SORT } from "@/features/runs/api/list-search";
import { suiteRunsQuery, type SuiteRunsSearch } from "@/features/runs/api/suite-runs";
import { projectsQuery } from "@/shared/api/projects";
import { Card } from "@/shared/ui/card";
import { Pager } from "./pager";
import { SuiteRunsFilters } from "./suite-runs-filters";
import { SuiteRunsTable } from "./suite-runs-table";

type Props = { search: SuiteRunsSearch; onSearchChange: (next: SuiteRunsSearch) => void };

/** Suite runs, filtered, sorted (newest first by default) and paged by the server; filters, order and page
 * live in the URL (the route owns them). */
export function SuiteRunsPage({ search, onSearchChange }: Props) {
  const suiteRuns = useQuery(suiteRunsQuery(search));
  const projects = useQuery(projectsQuery());
  const projectNames = new Map((projects.data?.items ?? []).map((p) => [p.id, p.name]));

  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">Suite runs</h1>
      <SuiteRunsFilters search={search} onChange={onSearchChange} />
      <Card aria-busy={suiteRuns.isFetching}>
        {suiteRuns.isError ? (
          <p role="alert" className="text-red-700 dark:text-red-300">
            Could not load the suite runs: {suiteRuns.error.message}
          </p>
        ) : suiteRuns.data ? (
          <SuiteRunsTable
            suiteRuns={suiteRuns.data.items}
            projectNames={projectNames}
            sort={search.sort ?? DEFAULT_SORT}
            onSortChange={(sort) => onSearchChange({ ...search, page: 1, sort: sort === DEFAULT_SORT ? undefined : sort })}
            page={search.page}
            total={suiteRuns.data.total}
          />
        ) : (
          <p className="py-8 text-center text-slate-600 dark:text-slate-300">Loading suite runs…</p>
        )}
      </Card>
      <Pager
        label="Pages of suite runs"
        page={search.page}
        total={suiteRuns.data?.total ?? 0}
        onPage={(page) => onSearchChange({ ...search, page })}
      />
    </div>
  );
}
