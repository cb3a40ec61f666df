import { useQuery } from "@tanstack/react-query";
import { projectsQuery, RUN_STATUSES, type RunsSearch } from "@/features/runs/api/runs";

type Props = { search: RunsSearch; onChange: (next: RunsSearch) => void };

const selectClass =
  "rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm dark:border-slate-600 dark:bg-slate-800 focus-visible:outline-2 focus-visible:outline-indigo-500";

/** Status and project filters; a change goes back to the first page. */
export function RunsFilters({ search, onChange }: Props) {
  const projects = useQuery(projectsQuery());
  return (
    <form role="search" aria-label="Filter runs" className="flex flex-wrap items-end gap-4" onSubmit={(e) => e.preventDefault()}>
      <label className="flex flex-col gap-1 text-sm font-medium">
        Status
        <select
          className={selectClass}
          value={search.status ?? ""}
          onChange={(e) => onChange({ ...search, page: 1, status: (e.target.value || undefined) as RunsSearch["status"] })}
        >
          <option value="">Any status</option>
          {RUN_STATUSES.map((status) => (
            <option key={status} value={status}>
              {status.replace("_", " ").toLowerCase()}
            </option>
          ))}
        </select>
      </label>
      <label className="flex flex-col gap-1 text-sm font-medium">
        Project
        <select
          className={selectClass}
          value={search.project ?? ""}
          onChange={(e) => onChange({ ...search, page: 1, project: e.target.value || undefined })}
        >
          <option value="">Any project</option>
          {search.project && !projects.data?.items.some((p) => p.name === search.project) ? (
            <option value={search.project}>{search.project}</option>
          ) : null}
          {projects.data?.items.map((project) => (
            <option key={project.id} value={project.name}>
              {project.name}
            </option>
          ))}
        </select>
      </label>
    </form>
  );
}
