import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { MAX_FILTER_LENGTH, projectsQuery, RUN_STATUSES, type RunsSearch } from "@/features/runs/api/runs";

type Props = { search: RunsSearch; onChange: (next: RunsSearch) => void };

const selectClass =
  "rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm dark:border-slate-600 dark:bg-slate-800 focus-visible:outline-2 focus-visible:outline-indigo-500";

type TextProps = {
  label: string;
  value: string | undefined;
  placeholder: string;
  onCommit: (value: string | undefined) => void;
};

/** A text filter applied when Enter is pressed or the field is left (not on every keystroke). */
function TextFilter({ label, value, placeholder, onCommit }: TextProps) {
  const [draft, setDraft] = useState(value ?? "");
  const [shown, setShown] = useState(value);
  if (shown !== value) {
    // The URL changed (back button, shared link): show what it says.
    setShown(value);
    setDraft(value ?? "");
  }
  const commit = () => {
    const next = draft.trim() || undefined;
    if (next !== value) onCommit(next);
  };
  return (
    <label className="flex flex-col gap-1 text-sm font-medium">
      {label}
      <input
        type="search"
        className={selectClass}
        value={draft}
        placeholder={placeholder}
        maxLength={MAX_FILTER_LENGTH}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === "Enter") commit();
        }}
      />
    </label>
  );
}

/** Status, project, suite, tag, name and creation-time filters; a change goes back to the first page. */
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
      <TextFilter
        label="Suite"
        placeholder="Any suite"
        value={search.suite}
        onCommit={(suite) => onChange({ ...search, page: 1, suite })}
      />
      <TextFilter label="Tag" placeholder="Any tag" value={search.tag} onCommit={(tag) => onChange({ ...search, page: 1, tag })} />
      <TextFilter
        label="Name contains"
        placeholder="Any name"
        value={search.q}
        onCommit={(q) => onChange({ ...search, page: 1, q })}
      />
      <label className="flex flex-col gap-1 text-sm font-medium">
        Created after
        <input
          type="datetime-local"
          className={selectClass}
          value={search.after ?? ""}
          max={search.before}
          onChange={(e) => onChange({ ...search, page: 1, after: e.target.value || undefined })}
        />
      </label>
      <label className="flex flex-col gap-1 text-sm font-medium">
        Created before
        <input
          type="datetime-local"
          className={selectClass}
          value={search.before ?? ""}
          min={search.after}
          onChange={(e) => onChange({ ...search, page: 1, before: e.target.value || undefined })}
        />
      </label>
    </form>
  );
}
