import { keepPreviousData, queryOptions } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/shared/api/client";

export type ProjectDocument = Schemas["DocumentOut"];
export type SearchHit = Schemas["HitOut"];
export type ChatMessage = Schemas["ChatMessageIn"];
export type ChatAnswer = Schemas["ChatResponse"];

export const DOCUMENTS_PAGE = 50;
/** The API's limits, checked before sending (the API checks again). */
export const MAX_TITLE = 500;
export const MAX_TEXT = 1_048_576;
export const MAX_QUERY = 1000;
export const MAX_MESSAGE = 20_000;
/** The API takes at most 50 messages: the oldest beyond that are left out of what is sent. */
export const MAX_MESSAGES = 50;

export const documentsQuery = (project: string) =>
  queryOptions({
    queryKey: ["documents", project],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{project}/documents", {
          params: { path: { project }, query: { limit: DOCUMENTS_PAGE } },
        }),
      ),
    placeholderData: keepPreviousData,
  });

export const searchQuery = (project: string, q: string) =>
  queryOptions({
    queryKey: ["documents", project, "search", q],
    queryFn: () =>
      unwrap(api.GET("/api/v1/projects/{project}/documents/search", { params: { path: { project }, query: { q } } })),
  });

export function addDocument(project: string, document: { title: string; text: string; source?: string }) {
  return unwrap(
    api.POST("/api/v1/projects/{project}/documents", {
      params: { path: { project } },
      body: { title: document.title, text: document.text, source: document.source || null },
    }),
  );
}

export function deleteDocument(project: string, id: string) {
  return unwrap(api.DELETE("/api/v1/projects/{project}/documents/{document}", { params: { path: { project, document: id } } }));
}

/** The assistant's reply to the conversation so far (the last message is the question). */
export function askAssistant(project: string, messages: ChatMessage[]) {
  return unwrap(
    api.POST("/api/v1/projects/{project}/assistant/chat", {
      params: { path: { project } },
      body: { messages: messages.slice(-MAX_MESSAGES) },
    }),
  );
}

/** A document's title from its file name: ``release-notes.md`` reads "release notes". */
export function titleFromFileName(name: string): string {
  const stem = name.replace(/\.(md|markdown|txt)$/i, "");
  return stem.replace(/[-_]+/g, " ").trim().slice(0, MAX_TITLE) || name.slice(0, MAX_TITLE);
}

/** The form's problem for a document, by field, or an empty object. */
export function checkDocument(title: string, text: string): { title?: string; text?: string } {
  const problems: { title?: string; text?: string } = {};
  if (!title.trim()) problems.title = "Give the document a title.";
  else if (title.length > MAX_TITLE) problems.title = `A title has at most ${MAX_TITLE} characters.`;
  if (!text.trim()) problems.text = "The document has no text.";
  else if (text.length > MAX_TEXT) problems.text = `A document holds at most ${MAX_TEXT.toLocaleString("en")} characters.`;
  else if (text.includes("\u0000")) problems.text = "The text holds a NUL character: is it a binary file?";
  return problems;
}
