import { useState, type FormEvent } from "react";
import { askAssistant, MAX_MESSAGE, type ChatAnswer, type ChatMessage } from "@/features/knowledge/api/knowledge";
import { ApiError } from "@/shared/api/client";
import { Button } from "@/shared/ui/button";
import { Field, inputClass } from "@/shared/ui/field";
import { mutedClass } from "@/shared/ui/styles";

type Turn = { question: ChatMessage; answer: ChatAnswer };

function Answer({ answer }: { answer: ChatAnswer }) {
  const citations = answer.citations ?? [];
  const tools = answer.tool_calls ?? [];
  return (
    <div className="flex flex-col gap-2">
      <p className="whitespace-pre-wrap break-words">{answer.reply}</p>
      {citations.length > 0 ? (
        <details>
          <summary className="cursor-pointer text-sm">Sources ({citations.length})</summary>
          <ol className="mt-1 flex flex-col gap-1 text-sm">
            {citations.map((citation) => (
              <li key={citation.id}>
                <span className="font-mono text-xs">[{citation.id}]</span> <span className="font-medium">{citation.title}</span>
                <p className={`whitespace-pre-wrap break-words ${mutedClass}`}>{citation.excerpt}</p>
              </li>
            ))}
          </ol>
        </details>
      ) : null}
      <p className={`text-xs ${mutedClass}`}>
        {answer.model ? `Answered by ${answer.model}` : "No language model is configured: the best excerpts are quoted."}
        {tools.length > 0 ? ` · tools used: ${tools.map((tool) => tool.name).join(", ")}` : ""}
      </p>
    </div>
  );
}

/** A conversation with the project's assistant; kept on this page only (nothing is stored). */
export function AssistantChat({ project }: { project: string }) {
  const [turns, setTurns] = useState<Turn[]>([]);
  const [draft, setDraft] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function ask(event: FormEvent) {
    event.preventDefault();
    const content = draft.trim();
    if (!content) return setError("Type a question.");
    if (content.length > MAX_MESSAGE) return setError(`A question has at most ${MAX_MESSAGE.toLocaleString("en")} characters.`);
    const question: ChatMessage = { role: "user", content };
    const history = turns.flatMap((turn): ChatMessage[] => [turn.question, { role: "assistant", content: turn.answer.reply }]);
    setBusy(true);
    setError(null);
    try {
      const answer = await askAssistant(project, [...history, question]);
      setTurns((previous) => [...previous, { question, answer }]);
      setDraft("");
    } catch (failure) {
      const away = failure instanceof ApiError && failure.status === 503;
      setError(`${away ? "The assistant is not available" : "The assistant could not answer"}: ${(failure as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="chat-heading" className="flex flex-col gap-3">
      <h2 id="chat-heading" className="text-lg font-semibold">
        Ask the assistant
      </h2>
      <p className={`text-sm ${mutedClass}`}>
        It answers from this project's documents, test cases and runs, and names its sources.
      </p>
      {turns.length > 0 ? (
        <ol aria-label="Conversation" aria-live="polite" className="flex flex-col gap-3">
          {turns.map((turn, index) => (
            <li key={index} className="flex flex-col gap-2">
              <p className="self-end rounded-md bg-indigo-50 px-3 py-2 text-sm whitespace-pre-wrap break-words dark:bg-indigo-950">
                <span className="sr-only">You: </span>
                {turn.question.content}
              </p>
              <div className="rounded-md border border-slate-200 px-3 py-2 text-sm dark:border-slate-700">
                <span className="sr-only">Assistant: </span>
                <Answer answer={turn.answer} />
              </div>
            </li>
          ))}
        </ol>
      ) : null}
      <form aria-label="Ask the assistant" className="flex flex-col gap-2" onSubmit={(event) => void ask(event)} noValidate>
        <Field label="Your question" error={error ?? undefined}>
          {(control) => (
            <textarea
              {...control}
              rows={3}
              className={inputClass}
              value={draft}
              onChange={(event) => setDraft(event.target.value)}
              onKeyDown={(event) => {
                if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) void ask(event);
              }}
            />
          )}
        </Field>
        <div className="flex items-center gap-3">
          <Button type="submit" disabled={busy}>
            {busy ? "Asking…" : "Ask"}
          </Button>
          <span className={`text-xs ${mutedClass}`}>Ctrl+Enter sends.</span>
          {turns.length > 0 ? (
            <Button variant="ghost" onClick={() => setTurns([])}>
              New conversation
            </Button>
          ) : null}
        </div>
      </form>
    </section>
  );
}
