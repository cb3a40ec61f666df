import { useQuery } from "@tanstack/react-query";
import { projectsQuery } from "@/shared/api/projects";

const selectClass =
  "rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm dark:border-slate-600 dark:bg-slate-800 focus-visible:outline-2 focus-visible:outline-indigo-500";

/** The project whose definitions are shown. */
export function ProjectPicker({ value, onChange }: { value: string | undefined; onChange: (project: string) => void }) {
  const projects = useQuery(projectsQuery());
  return (
    <label className="flex flex-col gap-1 text-sm font-medium">
      Project
      <select className={selectClass} value={value ?? ""} onChange={(event) => onChange(event.target.value)}>
        {value === undefined ? <option value="">Choose a project</option> : null}
        {value && !projects.data?.items.some((project) => project.name === value) ? <option value={value}>{value}</option> : null}
        {projects.data?.items.map((project) => (
          <option key={project.id} value={project.name}>
            {project.name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The project to show when the URL names none: the first one. */
export function useDefaultProject(): string | undefined {
  const projects = useQuery(projectsQuery());
  return projects.data?.items[0]?.name;
}
