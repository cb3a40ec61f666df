import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useEffect } from "react";
import { PAGE_SIZE, testCasesQuery, type TestCasesSearch } from "@/features/testcases/api/testcases";
import { useHasRole } from "@/shared/auth/me";
import { Button } from "@/shared/ui/button";
import { Card } from "@/shared/ui/card";
import { ProjectSelect, useProjectOrFirst } from "@/shared/ui/project-select";
import { mutedClass } from "@/shared/ui/styles";
import { TestCasesTable } from "./testcases-table";
import { UploadFiles } from "./upload-files";

type Props = { search: TestCasesSearch; onSearchChange: (next: TestCasesSearch, replace?: boolean) => void };

/** A project's test cases with their latest verdicts; new ones are written here or uploaded as files. */
export function TestCasesPage({ search, onSearchChange }: Props) {
  const fallback = useProjectOrFirst(undefined);
  const project = search.project ?? fallback;
  useEffect(() => {
    if (search.project === undefined && fallback !== undefined) onSearchChange({ project: fallback, page: 1 }, true);
  }, [search.project, fallback, onSearchChange]);
  const canEdit = useHasRole("editor");
  const cases = useQuery({ ...testCasesQuery(project ?? "", search.page), enabled: project !== undefined });
  const total = cases.data?.total ?? 0;
  const lastPage = Math.max(1, Math.ceil(total / PAGE_SIZE));

  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">Test cases</h1>
      <div className="flex flex-wrap items-end gap-2">
        <ProjectSelect value={project} onChange={(next) => onSearchChange({ project: next, page: 1 })} />
        {canEdit && project ? (
          <>
            <Button asChild className="ml-auto">
              <Link to="/test-cases/new" search={{ project }}>
                New test case
              </Link>
            </Button>
            <UploadFiles project={project} />
          </>
        ) : null}
      </div>
      <Card aria-busy={cases.isFetching} aria-label="Test cases">
        {project === undefined ? (
          <p className={`py-8 text-center ${mutedClass}`}>There is no project yet: upload test cases to create one.</p>
        ) : cases.isError ? (
          <p role="alert" className="text-red-700 dark:text-red-300">
            Could not load the test cases: {cases.error.message}
          </p>
        ) : cases.data ? (
          <TestCasesTable project={project} items={cases.data.items} />
        ) : (
          <p className={`py-8 text-center ${mutedClass}`}>Loading test cases…</p>
        )}
      </Card>
      {lastPage > 1 ? (
        <nav aria-label="Pages of test cases" className="flex items-center justify-between gap-4 text-sm">
          <span aria-live="polite">
            Page {search.page} of {lastPage} ({total} test cases)
          </span>
          <div className="flex gap-2">
            <Button variant="secondary" disabled={search.page <= 1} onClick={() => onSearchChange({ ...search, page: search.page - 1 })}>
              Previous
            </Button>
            <Button variant="secondary" disabled={search.page >= lastPage} onClick={() => onSearchChange({ ...search, page: search.page + 1 })}>
              Next
            </Button>
          </div>
        </nav>
      ) : null}
    </div>
  );
}
