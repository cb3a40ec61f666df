import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { deleteDocument, documentsQuery, type ProjectDocument } from "@/features/knowledge/api/knowledge";
import { hasRole, useMe } from "@/shared/auth/me";
import { formatTime } from "@/shared/lib/format";
import { Button } from "@/shared/ui/button";
import { Card } from "@/shared/ui/card";
import { ProjectSelect, useProjectOrFirst } from "@/shared/ui/project-select";
import { mutedClass } from "@/shared/ui/styles";
import { AssistantChat } from "./assistant-chat";
import { DocumentForm } from "./document-form";
import { DocumentSearch } from "./document-search";

function DocumentsTable({ project, documents, canEdit }: { project: string; documents: ProjectDocument[]; canEdit: boolean }) {
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  async function remove(document: ProjectDocument) {
    if (!window.confirm(`Delete the document "${document.title}"? The assistant will no longer cite it.`)) return;
    setError(null);
    try {
      await deleteDocument(project, document.id);
    } catch (failure) {
      setError(`Could not delete "${document.title}": ${(failure as Error).message}`);
    }
    await queryClient.invalidateQueries({ queryKey: ["documents", project] });
  }
  return (
    <div className="overflow-x-auto">
      {error ? (
        <p role="alert" className="text-sm text-red-700 dark:text-red-300">
          {error}
        </p>
      ) : null}
      <table className="w-full text-left text-sm">
        <caption className="sr-only">Documents of {project}</caption>
        <thead className="border-b border-slate-200 text-xs uppercase text-slate-600 dark:border-slate-700 dark:text-slate-300">
          <tr>
            <th scope="col" className="py-2 pr-3">Title</th>
            <th scope="col" className="py-2 pr-3">Kind</th>
            <th scope="col" className="py-2 pr-3">Source</th>
            <th scope="col" className="py-2 pr-3">Chunks</th>
            <th scope="col" className="py-2 pr-3">Updated</th>
            {canEdit ? <th scope="col" className="py-2"><span className="sr-only">Actions</span></th> : null}
          </tr>
        </thead>
        <tbody>
          {documents.map((document) => (
            <tr key={document.id} className="border-b border-slate-100 align-top last:border-0 dark:border-slate-800">
              <td className="py-2 pr-3 font-medium break-words">{document.title}</td>
              <td className="py-2 pr-3">{document.kind}</td>
              <td className="py-2 pr-3 break-all">{document.source}</td>
              <td className="py-2 pr-3">{document.chunks}</td>
              <td className="py-2 pr-3 whitespace-nowrap">{formatTime(document.updated_at)}</td>
              {canEdit ? (
                <td className="py-2">
                  <Button variant="danger" aria-label={`Delete ${document.title}`} onClick={() => void remove(document)}>
                    Delete
                  </Button>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A project's documents for the assistant (Markdown uploaded here, OpenAPI descriptions of environments,
 * failures), a search over them, and the assistant's chat. */
export function KnowledgePage({ project, onProjectChange }: { project?: string; onProjectChange: (name: string) => void }) {
  const current = useProjectOrFirst(project);
  const canEdit = hasRole(useMe(), "editor");
  const documents = useQuery({ ...documentsQuery(current ?? ""), enabled: current !== undefined });
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">Assistant</h1>
      <ProjectSelect value={current} onChange={onProjectChange} />
      {current === undefined ? (
        <p>No project yet.</p>
      ) : (
        <>
          <Card>
            <AssistantChat key={current} project={current} />
          </Card>
          <Card className="flex flex-col gap-3">
            <h2 className="text-lg font-semibold">Documents</h2>
            {documents.isError ? (
              <p role="alert" className="text-red-700 dark:text-red-300">
                Could not load the documents: {documents.error.message}
              </p>
            ) : !documents.data ? (
              <p>Loading the documents…</p>
            ) : documents.data.items.length === 0 ? (
              <p className={mutedClass}>This project has no document yet: add release notes, a runbook, the API guide.</p>
            ) : (
              <>
                <DocumentsTable project={current} documents={documents.data.items} canEdit={canEdit} />
                {documents.data.total > documents.data.items.length ? (
                  <p className={`text-sm ${mutedClass}`}>
                    The {documents.data.items.length} most recent of {documents.data.total} documents are shown.
                  </p>
                ) : null}
              </>
            )}
          </Card>
          <Card>
            <DocumentSearch key={current} project={current} />
          </Card>
          {canEdit ? (
            <Card>
              <DocumentForm key={current} project={current} />
            </Card>
          ) : null}
        </>
      )}
    </div>
  );
}
