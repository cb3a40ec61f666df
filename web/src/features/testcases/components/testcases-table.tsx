import { Link } from "@tanstack/react-router";
import type { TestCaseSummary } from "@/features/testcases/api/testcases";
import { formatTime } from "@/shared/lib/format";
import { StatusBadge } from "@/shared/ui/status-badge";
import { linkClass, mutedClass } from "@/shared/ui/styles";

/** The project's test cases by name, each with its latest run's verdict (a link to that run). */
export function TestCasesTable({ project, items }: { project: string; items: TestCaseSummary[] }) {
  if (items.length === 0) {
    return <p className={`py-8 text-center ${mutedClass}`}>This project has no test cases yet.</p>;
  }
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-left text-sm">
        <caption className="sr-only">Test cases of {project}, by name, with their latest run</caption>
        <thead className="border-b border-slate-200 text-xs uppercase text-slate-600 dark:border-slate-700 dark:text-slate-300">
          <tr>
            <th scope="col" className="py-2 pr-3">Test case</th>
            <th scope="col" className="py-2 pr-3">Last run</th>
            <th scope="col" className="py-2 pr-3">Version</th>
            <th scope="col" className="py-2 pr-3">Tags</th>
            <th scope="col" className="py-2">Changed</th>
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={item.id} className="border-b border-slate-100 align-top last:border-0 dark:border-slate-800">
              <td className="py-2 pr-3">
                <Link to="/test-cases/$project/$name" params={{ project, name: item.name }} className={linkClass}>
                  {item.name}
                </Link>
                {item.description ? <div className={`line-clamp-1 text-xs ${mutedClass}`}>{item.description}</div> : null}
              </td>
              <td className="py-2 pr-3 whitespace-nowrap">
                {item.last_run ? (
                  <Link
                    to="/runs/$runId"
                    params={{ runId: item.last_run.id }}
                    className="inline-flex items-center gap-2 focus-visible:outline-2 focus-visible:outline-indigo-500"
                    aria-label={`Last run: ${item.last_run.status.replace("_", " ").toLowerCase()} in ${item.last_run.environment}, version ${item.last_run.test_case_version}`}
                  >
                    <StatusBadge status={item.last_run.status} />
                    <span className={`text-xs ${mutedClass}`}>
                      {item.last_run.environment} · v{item.last_run.test_case_version}
                    </span>
                  </Link>
                ) : (
                  <span className={`text-xs ${mutedClass}`}>never run</span>
                )}
              </td>
              <td className="py-2 pr-3 tabular-nums">v{item.current_version}</td>
              <td className="py-2 pr-3">
                <ul className="flex flex-wrap gap-1" aria-label="Tags">
                  {item.tags.map((tag) => (
                    <li key={tag} className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-800 dark:bg-slate-800 dark:text-slate-100">
                      {tag}
                    </li>
                  ))}
                </ul>
              </td>
              <td className="py-2 whitespace-nowrap">{formatTime(item.updated_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
