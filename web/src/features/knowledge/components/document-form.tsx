import { useQueryClient } from "@tanstack/react-query";
import { useState, type ChangeEvent, type FormEvent } from "react";
import { addDocument, checkDocument, MAX_TEXT, titleFromFileName } from "@/features/knowledge/api/knowledge";
import { useSubmit } from "@/shared/forms/use-submit";
import { Button } from "@/shared/ui/button";
import { Field, inputClass } from "@/shared/ui/field";

const FIELDS = ["title", "text", "source"] as const;

/** A file's text, as UTF-8. */
function readText(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error(`could not read ${file.name}`));
    reader.readAsText(file);
  });
}

/** Add a Markdown document (a file read in the browser, or pasted text); the same source replaces it. */
export function DocumentForm({ project }: { project: string }) {
  const queryClient = useQueryClient();
  const [title, setTitle] = useState("");
  const [text, setText] = useState("");
  const [source, setSource] = useState("");
  const [added, setAdded] = useState<string | null>(null);
  const { busy, errors, formError, submit, setFormError } = useSubmit(FIELDS);

  async function readFile(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    if (!file) return;
    if (file.size > MAX_TEXT * 4) {
      setFormError(`${file.name} is too large: a document holds at most ${MAX_TEXT.toLocaleString("en")} characters.`);
      return;
    }
    setSource(file.name);
    if (!title.trim()) setTitle(titleFromFileName(file.name));
    try {
      setText(await readText(file));
    } catch (failure) {
      setFormError(`Could not read ${file.name}: ${(failure as Error).message}`);
    }
  }

  async function send(event: FormEvent) {
    event.preventDefault();
    setAdded(null);
    let chunks = 0;
    const ok = await submit(checkDocument(title, text), async () => {
      chunks = (await addDocument(project, { title: title.trim(), text, source: source.trim() })).chunks;
    });
    if (!ok) return;
    setAdded(`"${title.trim()}" was added in ${chunks} chunk${chunks === 1 ? "" : "s"}.`);
    setTitle("");
    setText("");
    setSource("");
    await queryClient.invalidateQueries({ queryKey: ["documents", project] });
  }

  return (
    <form aria-label="Add a document" className="flex flex-col gap-3" onSubmit={send} noValidate>
      <h2 className="text-lg font-semibold">Add a document</h2>
      <label className="flex flex-col gap-1 text-sm font-medium">
        Markdown file
        <input type="file" accept=".md,.markdown,.txt,text/markdown,text/plain" className="text-sm" onChange={(event) => void readFile(event)} />
      </label>
      <div className="flex flex-wrap gap-4">
        <Field label="Title" error={errors.title} className="min-w-64 flex-1">
          {(control) => <input {...control} className={inputClass} value={title} onChange={(event) => setTitle(event.target.value)} />}
        </Field>
        <Field
          label="Source (optional)"
          hint="A file name or URL; adding the same source again replaces that document."
          error={errors.source}
          className="min-w-64 flex-1"
        >
          {(control) => <input {...control} className={inputClass} value={source} onChange={(event) => setSource(event.target.value)} />}
        </Field>
      </div>
      <Field label="Text (Markdown)" error={errors.text}>
        {(control) => (
          <textarea
            {...control}
            rows={8}
            className={`${inputClass} font-mono`}
            value={text}
            spellCheck={false}
            onChange={(event) => setText(event.target.value)}
          />
        )}
      </Field>
      {formError ? (
        <p role="alert" className="text-sm text-red-700 dark:text-red-300">
          {formError}
        </p>
      ) : null}
      {added ? (
        <p role="status" className="text-sm text-green-800 dark:text-green-300">
          {added}
        </p>
      ) : null}
      <div>
        <Button type="submit" disabled={busy}>
          {busy ? "Adding…" : "Add the document"}
        </Button>
      </div>
    </form>
  );
}
