// The fields the runs list's and the suite-runs list's filter bars share. Each reports the value it was
// changed to; the bar puts it in the URL (and goes back to the first page).
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { MAX_FILTER_LENGTH, RUN_STATUSES, type RunStatus } from "@/features/runs/api/list-search";
import { projectsQuery } from "@/shared/api/projects";

export const selectClass =
  "rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm dark:border-slate-600 dark:bg-slate-800 focus-visible:outline-2 focus-visible:outline-indigo-500";
const labelClass = "flex flex-col gap-1 text-sm font-medium";

type TextProps = {
  label: string;
  value: string | undefined;
  placeholder: string;
  onCommit: (value: string | undefined) => void;
};

/** A text filter applied when Enter is pressed or the field is left (not on every keystroke). */
export function TextFilter({ label, value, placeholder, onCommit }: TextProps) {
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
    <label className={labelClass}>
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

type ChoiceProps<T extends string> = { value: T | undefined; onChange: (value: T | undefined) => void };

export function StatusSelect({ value, onChange }: ChoiceProps<RunStatus>) {
  return (
    <label className={labelClass}>
      Status
      <select
        className={selectClass}
        value={value ?? ""}
        onChange={(e) => onChange((e.target.value || undefined) as RunStatus | undefined)}
      >
        <option value="">Any status</option>
        {RUN_STATUSES.map((status) => (
          <option key={status} value={status}>
            {status.replace("_", " ").toLowerCase()}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The projects by name; one named in the URL that is not (or not yet) listed is kept as a choice. */
export function ProjectSelect({ value, onChange }: ChoiceProps<string>) {
  const projects = useQuery(projectsQuery());
  return (
    <label className={labelClass}>
      Project
      <select className={selectClass} value={value ?? ""} onChange={(e) => onChange(e.target.value || undefined)}>
        <option value="">Any project</option>
        {value && !projects.data?.items.some((p) => p.name === value) ? <option value={value}>{value}</option> : null}
        {projects.data?.items.map((project) => (
          <option key={project.id} value={project.name}>
            {project.name}
          </option>
        ))}
      </select>
    </label>
  );
}

type WindowProps = {
  after: string | undefined;
  before: string | undefined;
  onChange: (window: { after: string | undefined; before: string | undefined }) => void;
};

/** Created after / created before, as local times; neither field can pass the other. */
export function CreatedWindow({ after, before, onChange }: WindowProps) {
  return (
    <>
      <label className={labelClass}>
        Created after
        <input
          type="datetime-local"
          className={selectClass}
          value={after ?? ""}
          max={before}
          onChange={(e) => onChange({ after: e.target.value || undefined, before })}
        />
      </label>
      <label className={labelClass}>
        Created before
        <input
          type="datetime-local"
          className={selectClass}
          value={before ?? ""}
          min={after}
          onChange={(e) => onChange({ after, before: e.target.value || undefined })}
        />
      </label>
    </>
  );
}
