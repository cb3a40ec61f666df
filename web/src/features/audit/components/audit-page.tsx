import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { ACTION, AUDIT_PAGE, auditQuery, type AuditEvent, type AuditSearch } from "@/features/audit/api/audit";
import { projectsQuery } from "@/shared/api/projects";
import { hasRole, useMe } from "@/shared/auth/me";
import { formatTime } from "@/shared/lib/format";
import { Button } from "@/shared/ui/button";
import { Card } from "@/shared/ui/card";
import { Field, inputClass } from "@/shared/ui/field";

function Details({ event }: { event: AuditEvent }) {
  const text = JSON.stringify(event.details, null, 2);
  return (
    <details>
      <summary className="cursor-pointer text-xs text-indigo-700 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-indigo-300">
        details
      </summary>
      <pre className="mt-1 max-w-md overflow-auto rounded bg-slate-100 p-2 font-mono text-xs whitespace-pre-wrap break-all dark:bg-slate-950">
        {text}
      </pre>
    </details>
  );
}

function Filters({ search, onChange }: { search: AuditSearch; onChange: (next: AuditSearch) => void }) {
  const [action, setAction] = useState(search.action ?? "");
  const [since, setSince] = useState(search.since ?? "");
  const [error, setError] = useState<string | null>(null);
  function apply(event: FormEvent) {
    event.preventDefault();
    const name = action.trim();
    if (name && !ACTION.test(name)) {
      setError("An action is a name such as create_token or token.used (lower-case letters, '_' and '.').");
      return;
    }
    setError(null);
    onChange({ page: 1, action: name || undefined, since: since || undefined });
  }
  return (
    <form role="search" aria-label="Filter the audit log" className="flex flex-wrap items-start gap-4" onSubmit={apply} noValidate>
      <Field label="Action" error={error ?? undefined}>
        {(control) => (
          <input
            {...control}
            className={`${inputClass} font-mono`}
            placeholder="create_token"
            value={action}
            spellCheck={false}
            onChange={(event) => setAction(event.target.value)}
          />
        )}
      </Field>
      <label className="flex flex-col gap-1 text-sm font-medium">
        Since (UTC day)
        <input type="date" className={inputClass} value={since} onChange={(event) => setSince(event.target.value)} />
      </label>
      <Button type="submit" className="mt-6">
        Filter
      </Button>
    </form>
  );
}

/** Who changed, ran or cancelled what, and token use; newest first (admins). */
export function AuditPage({ search, onSearchChange }: { search: AuditSearch; onSearchChange: (next: AuditSearch) => void }) {
  const me = useMe();
  const isAdmin = hasRole(me, "admin");
  const events = useQuery({ ...auditQuery(search), enabled: isAdmin });
  const projects = useQuery(projectsQuery());
  const projectNames = new Map((projects.data?.items ?? []).map((project) => [project.id, project.name]));
  const total = events.data?.total ?? 0;
  const first = total === 0 ? 0 : (search.page - 1) * AUDIT_PAGE + 1;
  const last = Math.min(search.page * AUDIT_PAGE, total);

  if (me && !isAdmin) {
    return (
      <div className="flex flex-col gap-4">
        <h1 className="text-2xl font-semibold">Audit log</h1>
        <p>Reading the audit log needs the admin role.</p>
      </div>
    );
  }
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">Audit log</h1>
      <Filters key={`${search.action ?? ""}|${search.since ?? ""}`} search={search} onChange={onSearchChange} />
      <Card aria-busy={events.isFetching}>
        {events.isError ? (
          <p role="alert" className="text-red-700 dark:text-red-300">
            Could not load the audit log: {events.error.message}
          </p>
        ) : !events.data ? (
          <p>Loading the audit log…</p>
        ) : events.data.items.length === 0 ? (
          <p className="text-slate-600 dark:text-slate-300">Nothing matches these filters.</p>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Audit log, newest first</caption>
              <thead className="border-b border-slate-200 text-xs uppercase text-slate-600 dark:border-slate-700 dark:text-slate-300">
                <tr>
                  <th scope="col" className="py-2 pr-3">When</th>
                  <th scope="col" className="py-2 pr-3">Who</th>
                  <th scope="col" className="py-2 pr-3">Action</th>
                  <th scope="col" className="py-2 pr-3">Object</th>
                  <th scope="col" className="py-2 pr-3">Project</th>
                  <th scope="col" className="py-2">Details</th>
                </tr>
              </thead>
              <tbody>
                {events.data.items.map((event) => (
                  <tr key={event.id} className="border-b border-slate-100 align-top last:border-0 dark:border-slate-800">
                    <td className="py-2 pr-3 whitespace-nowrap">{formatTime(event.at)}</td>
                    <td className="py-2 pr-3">
                      {event.actor}
                      <div className="text-xs text-slate-600 dark:text-slate-400">{event.actor_kind}</div>
                    </td>
                    <td className="py-2 pr-3 font-mono text-xs">{event.action}</td>
                    <td className="py-2 pr-3 break-all">
                      {event.object_type}
                      {event.object_name ? `: ${event.object_name}` : ""}
                    </td>
                    <td className="py-2 pr-3">{event.project_id ? (projectNames.get(event.project_id) ?? event.project_id.slice(0, 8)) : "—"}</td>
                    <td className="py-2">
                      <Details event={event} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <nav aria-label="Pages of the audit log" className="flex items-center justify-between gap-4 text-sm">
        <span aria-live="polite">
          {first}–{last} of {total}
        </span>
        <div className="flex gap-2">
          <Button variant="secondary" disabled={search.page <= 1} onClick={() => onSearchChange({ ...search, page: search.page - 1 })}>
            Newer
          </Button>
          <Button variant="secondary" disabled={last >= total} onClick={() => onSearchChange({ ...search, page: search.page + 1 })}>
            Older
          </Button>
        </div>
      </nav>
    </div>
  );
}
