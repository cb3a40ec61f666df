import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import { checkSpecFile, checkSpecUrl, importSpec, openapiQuery, operationsQuery } from "@/features/environments/api/openapi";
import { messages } from "@/shared/forms/checks";
import { useSubmit } from "@/shared/forms/use-submit";
import { formatTime } from "@/shared/lib/format";
import { Button } from "@/shared/ui/button";
import { Card } from "@/shared/ui/card";
import { Field, FormMessage, inputClass } from "@/shared/ui/field";

const FILE_INPUT =
  "text-sm file:mr-3 file:rounded-md file:border file:border-slate-400 file:bg-white file:px-3 file:py-1.5 file:text-sm " +
  "file:font-medium file:text-slate-900 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:file:bg-slate-800 dark:file:text-white";
const URL_FIELDS = ["url"] as const;
const FILE_FIELDS = ["text"] as const;

function Operations({ project, environment }: { project: string; environment: string }) {
  const operations = useQuery(operationsQuery(project, environment));
  if (operations.isError) return <p role="alert">Could not load the operations: {operations.error.message}</p>;
  if (!operations.data) return <p>Loading the operations…</p>;
  return (
    <div className="max-h-96 overflow-auto">
      <table className="w-full text-left text-sm">
        <caption className="sr-only">Operations of the SUT</caption>
        <thead className="text-xs uppercase text-slate-600 dark:text-slate-300">
          <tr>
            <th scope="col" className="py-1 pr-3">Method</th>
            <th scope="col" className="py-1 pr-3">Path</th>
            <th scope="col" className="py-1 pr-3">Operation</th>
            <th scope="col" className="py-1">Summary</th>
          </tr>
        </thead>
        <tbody>
          {operations.data.map((operation) => (
            <tr key={operation.operation_id} className="border-t border-slate-100 align-top dark:border-slate-800">
              <td className="py-1 pr-3 font-mono text-xs uppercase">{operation.method}</td>
              <td className="py-1 pr-3 font-mono text-xs break-all">{operation.path}</td>
              <td className="py-1 pr-3 font-mono text-xs break-all">{operation.operation_id}</td>
              <td className="py-1">{operation.summary}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The SUT's OpenAPI description (what test data is planned from): imported from a URL, which Orchestra
 * fetches under this environment's egress rules, or from a file; and its operations. */
export function OpenApiSection({ project, environment, canEdit }: { project: string; environment: string; canEdit: boolean }) {
  const queryClient = useQueryClient();
  const spec = useQuery(openapiQuery(project, environment));
  const [url, setUrl] = useState("");
  const file = useRef<HTMLInputElement>(null);
  const fromUrl = useSubmit(URL_FIELDS);
  const fromFile = useSubmit(FILE_FIELDS, { document: "text" });
  const [done, setDone] = useState<string | null>(null);

  async function imported() {
    setDone("Imported.");
    await queryClient.invalidateQueries({ queryKey: ["environments", project, environment, "openapi"] });
  }
  async function importUrl(event: FormEvent) {
    event.preventDefault();
    setDone(null);
    if (await fromUrl.submit(messages({ url: checkSpecUrl(url) }), () => importSpec(project, environment, { url }))) {
      setUrl("");
      await imported();
    }
  }
  async function importFile(event: FormEvent) {
    event.preventDefault();
    setDone(null);
    const chosen = file.current?.files?.[0];
    const ok = await fromFile.submit(messages({ text: checkSpecFile(chosen) }), async () => {
      if (chosen) await importSpec(project, environment, { text: await chosen.text() });
    });
    if (ok) {
      if (file.current) file.current.value = "";
      await imported();
    }
  }

  return (
    <Card aria-labelledby="openapi-heading" className="flex flex-col gap-3">
      <h2 id="openapi-heading" className="text-lg font-semibold">
        OpenAPI description of the SUT
      </h2>
      {spec.isError ? (
        <p role="alert">Could not load it: {spec.error.message}</p>
      ) : spec.data === undefined ? (
        <p>Loading…</p>
      ) : spec.data === null ? (
        <p className="text-sm text-slate-600 dark:text-slate-300">None imported yet: tests that declare their data need one.</p>
      ) : (
        <>
          <p className="text-sm">
            <strong>{spec.data.title}</strong> · {spec.data.operation_count} operation{spec.data.operation_count === 1 ? "" : "s"} · from{" "}
            <span className="font-mono break-all">{spec.data.source}</span> · imported {formatTime(spec.data.imported_at)}
          </p>
          <details>
            <summary className="cursor-pointer text-sm font-medium text-indigo-700 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-indigo-300">
              Operations ({spec.data.operation_count})
            </summary>
            <Operations project={project} environment={environment} />
          </details>
        </>
      )}
      {canEdit ? (
        <div className="grid gap-4 md:grid-cols-2">
          <form onSubmit={importUrl} noValidate className="flex flex-col gap-2">
            <Field label="Import from a URL" hint="Orchestra fetches it, within this environment's allowed hosts." error={fromUrl.errors.url}>
              {(control) => (
                <input
                  {...control}
                  className={`${inputClass} font-mono`}
                  placeholder="http://localhost:8080/openapi.json"
                  spellCheck={false}
                  value={url}
                  onChange={(e) => setUrl(e.target.value)}
                />
              )}
            </Field>
            <div>
              <Button type="submit" variant="secondary" disabled={fromUrl.busy}>
                {fromUrl.busy ? "Importing…" : "Import from URL"}
              </Button>
            </div>
            <FormMessage message={fromUrl.formError} />
          </form>
          <form onSubmit={importFile} noValidate className="flex flex-col gap-2">
            <Field label="Import a file" hint="JSON or YAML, OpenAPI 3.x, at most 2 MiB." error={fromFile.errors.text}>
              {(control) => <input {...control} ref={file} type="file" accept=".json,.yaml,.yml,application/json,application/yaml" className={FILE_INPUT} />}
            </Field>
            <div>
              <Button type="submit" variant="secondary" disabled={fromFile.busy}>
                {fromFile.busy ? "Importing…" : "Import file"}
              </Button>
            </div>
            <FormMessage message={fromFile.formError} />
          </form>
        </div>
      ) : null}
      <FormMessage message={done} tone="ok" />
    </Card>
  );
}
