import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { MAX_QUERY, searchQuery } from "@/features/knowledge/api/knowledge";
import { Button } from "@/shared/ui/button";
import { Field, inputClass } from "@/shared/ui/field";
import { mutedClass } from "@/shared/ui/styles";

/** Search a project's documents the way the assistant does (vector and full-text rankings fused). */
export function DocumentSearch({ project }: { project: string }) {
  const [draft, setDraft] = useState("");
  const [query, setQuery] = useState("");
  const [error, setError] = useState<string | null>(null);
  const hits = useQuery({ ...searchQuery(project, query), enabled: query !== "" });

  function search(event: FormEvent) {
    event.preventDefault();
    const q = draft.trim();
    if (!q) return setError("Type what to look for.");
    if (q.length > MAX_QUERY) return setError(`A search has at most ${MAX_QUERY} characters.`);
    setError(null);
    setQuery(q);
  }

  return (
    <section aria-labelledby="search-heading" className="flex flex-col gap-3">
      <h2 id="search-heading" className="text-lg font-semibold">
        Search the documents
      </h2>
      <form role="search" aria-label="Search the documents" className="flex flex-wrap items-start gap-3" onSubmit={search} noValidate>
        <Field label="Search for" error={error ?? undefined} className="min-w-64 flex-1">
          {(control) => <input {...control} className={inputClass} value={draft} onChange={(event) => setDraft(event.target.value)} />}
        </Field>
        <Button type="submit" className="mt-6">
          Search
        </Button>
      </form>
      {hits.isError ? (
        <p role="alert" className="text-sm text-red-700 dark:text-red-300">
          Could not search: {hits.error.message}
        </p>
      ) : hits.data ? (
        hits.data.hits.length === 0 ? (
          <p className={`text-sm ${mutedClass}`}>Nothing in the documents matches “{hits.data.query}”.</p>
        ) : (
          <ol aria-label="Search results" className="flex flex-col gap-2">
            {hits.data.hits.map((hit) => (
              <li key={`${hit.document_id}/${hit.chunk_id}`} className="rounded-md border border-slate-200 p-2 text-sm dark:border-slate-700">
                <span className="font-medium">{hit.title}</span>
                {hit.heading ? <span className={mutedClass}> · {hit.heading}</span> : null}
                <span className={`ml-2 text-xs ${mutedClass}`}>
                  {hit.kind} · score {hit.score.toFixed(3)}
                </span>
                <p className="mt-1 whitespace-pre-wrap break-words">{hit.excerpt}</p>
              </li>
            ))}
          </ol>
        )
      ) : hits.isFetching ? (
        <p>Searching…</p>
      ) : null}
    </section>
  );
}
