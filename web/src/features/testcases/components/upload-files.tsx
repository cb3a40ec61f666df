import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useRef, useState } from "react";
import { applyFiles, type Applied } from "@/features/testcases/api/testcases";
import { DefinitionProblem } from "@/features/testcases/api/problems";
import { Button } from "@/shared/ui/button";

const MAX_FILE_BYTES = 1024 * 1024;

function summary(result: Applied): string {
  const count = (items: { result: string }[], what: string) => {
    const changed = items.filter((item) => item.result !== "unchanged").length;
    return `${items.length} ${what}${items.length === 1 ? "" : "s"} (${changed} created or changed)`;
  };
  return `Applied ${count(result.test_cases, "test case")} and ${count(result.suites, "suite")}.`;
}

/** Upload YAML files (test cases and suites, as `orchestra apply` takes them): all are applied, or none.
 * A button, and the outcome below it on a row of its own (in a wrapping flex row). */
export function UploadFiles({ project }: { project: string }) {
  const input = useRef<HTMLInputElement>(null);
  const statusId = useId();
  const [refused, setRefused] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const upload = useMutation({
    mutationFn: async (files: File[]) => {
      const tooBig = files.find((file) => file.size > MAX_FILE_BYTES);
      if (tooBig) throw new Error(`${tooBig.name} is larger than 1 MiB`);
      return applyFiles(project, await Promise.all(files.map(async (file) => ({ name: file.name, content: await file.text() }))));
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["test-cases", project] });
      void queryClient.invalidateQueries({ queryKey: ["suites", project] });
    },
    onSettled: () => {
      if (input.current) input.current.value = "";
    },
  });
  const issues = upload.error instanceof DefinitionProblem ? upload.error.issues : [];
  return (
    <>
      <input
          ref={input}
          type="file"
          accept=".yaml,.yml,application/yaml,text/yaml"
          multiple
          className="sr-only"
          aria-describedby={statusId}
          aria-label="YAML files to upload"
          onChange={(event) => {
            const files = [...(event.target.files ?? [])];
            const others = files.filter((file) => !/\.ya?ml$/i.test(file.name));
            setRefused(others.length ? `Not YAML files: ${others.map((file) => file.name).join(", ")}` : null);
            if (files.length && !others.length) upload.mutate(files);
          }}
      />
      <Button variant="secondary" onClick={() => input.current?.click()} disabled={upload.isPending}>
        {upload.isPending ? "Uploading…" : "Upload YAML files"}
      </Button>
      <div id={statusId} aria-live="polite" className="basis-full text-sm empty:hidden">
        {refused ? <p role="alert" className="text-red-700 dark:text-red-300">{refused}</p> : null}
        {upload.isSuccess ? <p className="text-emerald-800 dark:text-emerald-200">{summary(upload.data)}</p> : null}
        {upload.isError ? (
          <div role="alert" className="text-red-700 dark:text-red-300">
            <p>{issues.length ? "Nothing was applied:" : `Upload refused: ${upload.error.message}`}</p>
            {issues.length ? (
              <ul className="mt-1 list-disc pl-5 font-mono text-xs break-words">
                {issues.map((issue, index) => (
                  <li key={index}>
                    {[issue.file, issue.line, issue.column].filter((part) => part !== null && part !== undefined).join(":")}
                    {issue.path ? ` ${issue.path}` : ""}: {issue.message}
                  </li>
                ))}
              </ul>
            ) : null}
          </div>
        ) : null}
      </div>
    </>
  );
}
