import { useQuery } from "@tanstack/react-query";
import { projectsQuery } from "@/shared/api/projects";
import { inputClass } from "./field";

/** The project a screen works in (by name); the screens keep it in the URL. */
export function ProjectSelect({ value, onChange }: { value: string | undefined; onChange: (name: string) => void }) {
  const projects = useQuery(projectsQuery());
  return (
    <label className="flex w-full max-w-sm flex-col gap-1 text-sm font-medium">
      Project
      <select className={inputClass} value={value ?? ""} onChange={(event) => onChange(event.target.value)}>
        {value === undefined ? <option value="">Choose a project</option> : null}
        {value && !projects.data?.items.some((project) => project.name === value) ? (
          <option value={value}>{value}</option>
        ) : null}
        {projects.data?.items.map((project) => (
          <option key={project.id} value={project.name}>
            {project.name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The project of the URL, else the first one the caller sees. */
export function useProjectOrFirst(project: string | undefined): string | undefined {
  const projects = useQuery(projectsQuery());
  return project ?? projects.data?.items[0]?.name;
}
