import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useEffect } from "react";
import { suitesQuery, type SuitesSearch } from "@/features/suites/api/suites";
import { Card } from "@/shared/ui/card";
import { ProjectSelect, useProjectOrFirst } from "@/shared/ui/project-select";

const muted = "text-slate-600 dark:text-slate-300";
const link = "font-medium text-indigo-700 hover:underline focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-indigo-300";

type Props = { search: SuitesSearch; onSearchChange: (next: SuitesSearch, replace?: boolean) => void };

/** A project's suites and how many test cases each lists. */
export function SuitesPage({ search, onSearchChange }: Props) {
  const fallback = useProjectOrFirst(undefined);
  const project = search.project ?? fallback;
  useEffect(() => {
    if (search.project === undefined && fallback !== undefined) onSearchChange({ project: fallback }, true);
  }, [search.project, fallback, onSearchChange]);
  const suites = useQuery({ ...suitesQuery(project ?? ""), enabled: project !== undefined });
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">Suites</h1>
      <ProjectSelect value={project} onChange={(next) => onSearchChange({ project: next })} />
      <Card aria-label="Suites" aria-busy={suites.isFetching}>
        {suites.isError ? (
          <p role="alert" className="text-red-700 dark:text-red-300">
            Could not load the suites: {suites.error.message}
          </p>
        ) : !suites.data || project === undefined ? (
          <p className={`py-8 text-center ${muted}`}>Loading suites…</p>
        ) : suites.data.items.length === 0 ? (
          <p className={`py-8 text-center ${muted}`}>This project has no suites. Upload a suite file on the Test cases page.</p>
        ) : (
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Suites of {project}</caption>
            <thead className="border-b border-slate-200 text-xs uppercase text-slate-600 dark:border-slate-700 dark:text-slate-300">
              <tr>
                <th scope="col" className="py-2 pr-3">Suite</th>
                <th scope="col" className="py-2 pr-3">Test cases</th>
                <th scope="col" className="py-2">Parallelism</th>
              </tr>
            </thead>
            <tbody>
              {suites.data.items.map((suite) => (
                <tr key={suite.id} className="border-b border-slate-100 last:border-0 dark:border-slate-800">
                  <td className="py-2 pr-3">
                    <Link to="/suites/$project/$name" params={{ project, name: suite.name }} className={link}>
                      {suite.name}
                    </Link>
                    {suite.description ? <div className={`text-xs ${muted}`}>{suite.description}</div> : null}
                  </td>
                  <td className="py-2 pr-3">{suite.tests.length === 1 && suite.tests[0] === "*" ? "all of the project" : suite.tests.length}</td>
                  <td className="py-2">{suite.parallelism ?? "default"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}
