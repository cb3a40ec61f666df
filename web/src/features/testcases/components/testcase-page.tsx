import * as Tabs from "@radix-ui/react-tabs";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useState, type ReactNode } from "react";
import {
  fileName,
  testCaseQuery,
  testCaseSchemaQuery,
  testCaseYamlQuery,
  type TestCaseSearch,
} from "@/features/testcases/api/testcases";
import { useHasRole } from "@/shared/auth/me";
import { downloadText } from "@/shared/lib/download";
import { Button } from "@/shared/ui/button";
import { RunNow } from "./run-now";
import { linkClass, mutedClass } from "@/shared/ui/styles";
import { TestCaseEditorPanel } from "./testcase-editor-panel";
import { VersionHistory } from "./version-history";

const tabClass =
  "rounded-t-md px-3 py-1.5 text-sm font-medium text-slate-600 data-[state=active]:border-b-2 data-[state=active]:border-indigo-600 data-[state=active]:text-slate-900 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-slate-300 dark:data-[state=active]:text-white";

type Props = {
  project: string;
  name: string;
  search: TestCaseSearch;
  onSearchChange: (next: TestCaseSearch) => void;
  /** What its runs came to (another feature's screen, given by the route). */
  results?: ReactNode;
};

/** One test case: its YAML in the editor (saved as a new version), running it, its versions and results. */
export function TestCasePage({ project, name, search, onSearchChange, results }: Props) {
  const queryClient = useQueryClient();
  const testCase = useQuery(testCaseQuery(project, name));
  const schema = useQuery(testCaseSchemaQuery());
  const canEdit = useHasRole("editor");
  // The version the editor was opened at: a save moves the test case on, not the editor's text.
  const [opened, setOpened] = useState<number | undefined>(undefined);
  const loaded = testCase.data?.current_version;
  if (opened === undefined && loaded !== undefined) setOpened(loaded); // pinned at the first answer
  const version = opened;
  const yaml = useQuery({ ...testCaseYamlQuery(project, name, version ?? 1), enabled: version !== undefined });

  if (testCase.isError) {
    return (
      <p role="alert" className="text-red-700 dark:text-red-300">
        Could not load the test case: {testCase.error.message}
      </p>
    );
  }
  if (!testCase.data) return <p>Loading the test case…</p>;
  const current = testCase.data;
  return (
    <div className="flex flex-col gap-4">
      <Link to="/test-cases" search={{ project, page: 1 }} className={`text-sm ${linkClass}`}>
        ← Test cases of {project}
      </Link>
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold break-all">{current.name}</h1>
          <p className={`text-sm ${mutedClass}`}>
            Version {current.current_version}
            {current.description ? ` · ${current.description}` : ""}
          </p>
        </div>
        <div className="flex flex-wrap items-end gap-3">
          <Button
            variant="secondary"
            onClick={() =>
              void queryClient
                .fetchQuery(testCaseYamlQuery(project, name, current.current_version))
                .then((text) => downloadText(fileName(name), text))
            }
          >
            Download YAML
          </Button>
          {canEdit ? <RunNow project={project} testCase={name} /> : null}
        </div>
      </div>
      <Tabs.Root
        value={search.tab ?? "edit"}
        onValueChange={(tab) =>
          onSearchChange(tab === "history" || tab === "results" ? { ...search, tab } : {})
        }
      >
        <Tabs.List aria-label="Test case" className="mb-3 flex gap-1 border-b border-slate-200 dark:border-slate-700">
          <Tabs.Trigger value="edit" className={tabClass}>
            {canEdit ? "Edit" : "YAML"}
          </Tabs.Trigger>
          <Tabs.Trigger value="history" className={tabClass}>
            Versions
          </Tabs.Trigger>
          {results ? (
            <Tabs.Trigger value="results" className={tabClass}>
              Results
            </Tabs.Trigger>
          ) : null}
        </Tabs.List>
        <Tabs.Content value="edit" forceMount className="data-[state=inactive]:hidden">
          {yaml.data !== undefined && version !== undefined && schema.isFetched ? (
            <TestCaseEditorPanel
              key={`${version}`}
              project={project}
              name={name}
              initial={yaml.data}
              baseVersion={version}
              schema={schema.data}
              canEdit={canEdit}
              onSaved={() => undefined}
              onReload={() => {
                void testCase.refetch().then((fresh) => setOpened(fresh.data?.current_version));
              }}
            />
          ) : yaml.isError ? (
            <p role="alert" className="text-red-700 dark:text-red-300">
              Could not load the YAML: {yaml.error.message}
            </p>
          ) : (
            <p className={mutedClass}>Loading the YAML…</p>
          )}
        </Tabs.Content>
        <Tabs.Content value="history">
          <VersionHistory
            project={project}
            name={name}
            from={search.from}
            to={search.to}
            onCompare={(from, to) => onSearchChange({ tab: "history", from, to })}
          />
        </Tabs.Content>
        {results ? <Tabs.Content value="results">{search.tab === "results" ? results : null}</Tabs.Content> : null}
      </Tabs.Root>
    </div>
  );
}
