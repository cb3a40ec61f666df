import { useQuery } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { testCaseSchemaQuery } from "@/features/testcases/api/testcases";
import { useHasRole } from "@/shared/auth/me";
import { linkClass, mutedClass } from "@/shared/ui/styles";
import { TestCaseEditorPanel } from "./testcase-editor-panel";

const TEMPLATE = `name: my test case
description: what it checks
tags: [smoke]
steps:
  - name: the service answers
    request:
      method: GET
      url: "{{ env.base_url }}/health"
    expect:
      status: 200
`;

/** A new test case, written in the editor; saved under the name it gives itself. */
export function NewTestCasePage({ project }: { project: string }) {
  const schema = useQuery(testCaseSchemaQuery());
  const canEdit = useHasRole("editor");
  const navigate = useNavigate();
  return (
    <div className="flex flex-col gap-4">
      <Link to="/test-cases" search={{ project, page: 1 }} className={`text-sm ${linkClass}`}>
        ← Test cases of {project}
      </Link>
      <h1 className="text-2xl font-semibold">New test case in {project}</h1>
      <p className={`text-sm ${mutedClass}`}>
        The same YAML as the files <code>orchestra apply</code> takes. Ctrl-Space completes keys; problems are marked as you type.
      </p>
      {schema.isFetched ? (
        <TestCaseEditorPanel
          project={project}
          initial={TEMPLATE}
          baseVersion={0}
          schema={schema.data}
          canEdit={canEdit}
          onSaved={(saved) => void navigate({ to: "/test-cases/$project/$name", params: { project, name: saved.name } })}
        />
      ) : (
        <p className={mutedClass}>Loading…</p>
      )}
    </div>
  );
}
