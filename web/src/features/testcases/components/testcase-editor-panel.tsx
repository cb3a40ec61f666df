import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { DefinitionProblem, type DefinitionIssue } from "@/features/testcases/api/problems";
import { fileName, saveTestCaseYaml, type Saved } from "@/features/testcases/api/testcases";
import type { Problem } from "@/features/testcases/api/yaml-problems";
import { downloadText } from "@/shared/lib/download";
import { useTheme } from "@/shared/lib/theme";
import { Button } from "@/shared/ui/button";
import { LazyYamlEditor } from "./lazy-editors";
import { ProblemsList } from "./problems-list";
import type { EditorHandle } from "./yaml-editor";

type Props = {
  project: string;
  /** The test case being edited; undefined for a new one (its name is the one the text gives). */
  name?: string;
  initial: string;
  /** The version the text was loaded from (0: a new test case). */
  baseVersion: number;
  schema: unknown;
  canEdit: boolean;
  onSaved: (saved: Saved) => void;
  /** A later save was refused because the test case changed meanwhile: load its current version. */
  onReload?: () => void;
};

/** The YAML editor with its problems, and saving (checked before it is sent, and by the API). */
export function TestCaseEditorPanel({ project, name, initial, baseVersion, schema, canEdit, onSaved, onReload }: Props) {
  const editor = useRef<EditorHandle>(null);
  const dark = useTheme() === "dark";
  const queryClient = useQueryClient();
  const [text, setText] = useState(initial);
  const [saved, setSaved] = useState({ text: initial, version: baseVersion });
  const [problems, setProblems] = useState<Problem[]>([]);
  const [docName, setDocName] = useState<string | undefined>(undefined);
  const [server, setServer] = useState<{ issues: DefinitionIssue[] } | null>(null);
  const target = name ?? docName;

  const save = useMutation({
    mutationFn: () => saveTestCaseYaml(project, target ?? "", text, saved.version),
    onSuccess: (result) => {
      setServer(null);
      setSaved({ text, version: result.version });
      void queryClient.invalidateQueries({ queryKey: ["test-cases", project] });
      void queryClient.invalidateQueries({ queryKey: ["test-case-versions", project, result.name] });
      queryClient.setQueryData(["test-case", project, result.name], result);
      onSaved(result);
    },
    onError: (error) => setServer({ issues: error instanceof DefinitionProblem ? error.issues : [] }),
  });

  const ownProblems = problems.filter((problem) => !problem.api).length;
  const dirty = text !== saved.text;
  const conflict = save.error instanceof DefinitionProblem && save.error.status === 409;
  const blocked = !canEdit || save.isPending || ownProblems > 0 || !dirty || target === undefined;

  return (
    <div className="flex flex-col gap-3">
      <div className="flex flex-wrap items-center gap-3">
        {canEdit ? (
          <Button onClick={() => save.mutate()} disabled={blocked} aria-describedby="save-status">
            {save.isPending ? "Saving…" : name ? "Save" : "Create"}
          </Button>
        ) : null}
        <Button variant="secondary" onClick={() => downloadText(fileName(target ?? "test-case"), text)}>
          Download this text
        </Button>
        <p id="save-status" aria-live="polite" className="text-sm text-slate-700 dark:text-slate-200">
          {!canEdit
            ? "Your role may read test cases; saving needs the editor role."
            : ownProblems > 0
              ? "Fix the problems below to save."
              : dirty
                ? "Unsaved changes. Escape then Tab leaves the editor."
                : save.isSuccess
                  ? save.data.changed
                    ? `Saved as version ${save.data.version}.`
                    : `No change: identical to version ${save.data.version}.`
                  : name
                    ? `Version ${saved.version}, as saved.`
                    : "Write the test case; its name is the name it is saved under."}
        </p>
      </div>
      {save.isError ? (
        <div role="alert" className="rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200">
          <p>Not saved: {save.error.message}</p>
          {conflict && onReload ? (
            <p className="mt-2 flex flex-wrap gap-2">
              <Button variant="secondary" onClick={() => downloadText(fileName(target ?? "test-case"), text)}>
                Download my text
              </Button>
              <Button variant="secondary" onClick={onReload}>
                Load the current version
              </Button>
            </p>
          ) : null}
        </div>
      ) : null}
      <LazyYamlEditor
        ref={editor}
        initial={initial}
        schema={schema}
        server={server}
        readOnly={!canEdit}
        dark={dark}
        label={name ? `YAML of test case ${name}` : "YAML of the new test case"}
        onChange={setText}
        onProblems={(found, given) => {
          setProblems(found);
          setDocName(given);
        }}
      />
      <ProblemsList problems={problems} onGoTo={(offset) => editor.current?.goTo(offset)} />
    </div>
  );
}
