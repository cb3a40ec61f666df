import type { RunsSearch } from "@/features/runs/api/runs";
import { CreatedWindow, ProjectSelect, StatusSelect, TextFilter } from "./list-filters";

type Props = { search: RunsSearch; onChange: (next: RunsSearch) => void };

/** Status, project, suite, tag, name and creation-time filters; a change goes back to the first page. */
export function RunsFilters({ search, onChange }: Props) {
  const change = (next: Partial<RunsSearch>) => onChange({ ...search, ...next, page: 1 });
  return (
    <form role="search" aria-label="Filter runs" className="flex flex-wrap items-end gap-4" onSubmit={(e) => e.preventDefault()}>
      <StatusSelect value={search.status} onChange={(status) => change({ status })} />
      <ProjectSelect value={search.project} onChange={(project) => change({ project })} />
      <TextFilter label="Suite" placeholder="Any suite" value={search.suite} onCommit={(suite) => change({ suite })} />
      <TextFilter label="Tag" placeholder="Any tag" value={search.tag} onCommit={(tag) => change({ tag })} />
      <TextFilter label="Name contains" placeholder="Any name" value={search.q} onCommit={(q) => change({ q })} />
      <CreatedWindow after={search.after} before={search.before} onChange={change} />
    </form>
  );
}
