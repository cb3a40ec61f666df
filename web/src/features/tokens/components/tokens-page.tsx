import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import {
  checkToken,
  createToken,
  revokeToken,
  ROLES,
  TOKEN_FIELDS,
  tokensQuery,
  type Token,
  type TokenDraft,
} from "@/features/tokens/api/tokens";
import { projectsQuery } from "@/shared/api/projects";
import { hasRole, useMe, type Me } from "@/shared/auth/me";
import { messages } from "@/shared/forms/checks";
import { useSubmit } from "@/shared/forms/use-submit";
import { formatTime } from "@/shared/lib/format";
import { Button } from "@/shared/ui/button";
import { Card } from "@/shared/ui/card";
import { Field, FormMessage, inputClass } from "@/shared/ui/field";
import { CreatedToken } from "./created-token";

const EMPTY: TokenDraft = { name: "", role: "viewer", project: "", expires: "" };

function CreateToken({ me, onCreated }: { me: Me; onCreated: (name: string, token: string) => void }) {
  const queryClient = useQueryClient();
  const projects = useQuery(projectsQuery());
  const [draft, setDraft] = useState<TokenDraft>(EMPTY);
  const { busy, errors, formError, submit } = useSubmit(TOKEN_FIELDS, { expires: "expires_at" });
  const needsProject = !hasRole(me, "admin");
  const roles = ROLES.filter((role) => hasRole(me, role));
  const projectNames = new Map((projects.data?.items ?? []).map((project) => [project.id, project.name]));

  async function create(event: FormEvent) {
    event.preventDefault();
    let created: { name: string; token: string } | undefined;
    const ok = await submit(messages(checkToken(draft, needsProject)), async () => {
      const answer = await createToken(draft);
      created = { name: answer.name, token: answer.token };
    });
    if (!ok || !created) return;
    setDraft(EMPTY);
    onCreated(created.name, created.token);
    await queryClient.invalidateQueries({ queryKey: ["tokens"] });
  }

  return (
    <Card aria-labelledby="new-token">
      <h2 id="new-token" className="mb-3 text-lg font-semibold">
        New token
      </h2>
      <form onSubmit={create} noValidate className="grid gap-4 md:grid-cols-4">
        <Field label="Name" hint="What uses it, e.g. gitlab-ci." error={errors.name}>
          {(control) => (
            <input {...control} className={inputClass} value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
          )}
        </Field>
        <Field label="Role" hint="At most your own." error={errors.role}>
          {(control) => (
            <select
              {...control}
              className={inputClass}
              value={draft.role}
              onChange={(e) => setDraft({ ...draft, role: e.target.value as TokenDraft["role"] })}
            >
              {roles.map((role) => (
                <option key={role} value={role}>
                  {role}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Project" hint={needsProject ? "Required for your role." : "Empty: every project."} error={errors.project}>
          {(control) => (
            <select {...control} className={inputClass} value={draft.project} onChange={(e) => setDraft({ ...draft, project: e.target.value })}>
              <option value="">{needsProject ? "Choose a project" : "Every project"}</option>
              {me.project_id ? (
                <option value={me.project_id}>{projectNames.get(me.project_id) ?? me.project_id}</option>
              ) : (
                projects.data?.items.map((project) => (
                  <option key={project.id} value={project.name}>
                    {project.name}
                  </option>
                ))
              )}
            </select>
          )}
        </Field>
        <Field label="Expires" hint="At the end of that day (UTC); empty: never." error={errors.expires_at}>
          {(control) => (
            <input {...control} type="date" className={inputClass} value={draft.expires} onChange={(e) => setDraft({ ...draft, expires: e.target.value })} />
          )}
        </Field>
        <div className="flex items-center gap-3 md:col-span-4">
          <Button type="submit" disabled={busy}>
            {busy ? "Creating…" : "Create token"}
          </Button>
          <FormMessage message={formError} />
        </div>
      </form>
    </Card>
  );
}

function state(token: Token): string {
  if (token.revoked_at) return `revoked ${formatTime(token.revoked_at)}`;
  if (token.expires_at && Date.parse(token.expires_at) <= Date.now()) return "expired";
  return "active";
}

function TokenRow({ token, me, projectNames }: { token: Token; me: Me; projectNames: Map<string, string> }) {
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The local admin token is replaced with `orchestra admin-token --new`, not revoked from a page signed in with it.
  const localAdmin = token.kind === "local-admin";
  const revocable = !token.revoked_at && !localAdmin && hasRole(me, token.role);
  async function revoke() {
    if (!window.confirm(`Revoke token '${token.name}'? Whatever uses it is refused from now on.`)) return;
    setBusy(true);
    try {
      await revokeToken(token.id);
      await queryClient.invalidateQueries({ queryKey: ["tokens"] });
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <tr className="border-b border-slate-100 align-top last:border-0 dark:border-slate-800">
      <th scope="row" className="py-2 pr-3 text-left font-medium">
        {token.name}
        <div className="font-mono text-xs font-normal text-slate-600 dark:text-slate-400">orc_…{token.prefix}…</div>
      </th>
      <td className="py-2 pr-3">{token.role}</td>
      <td className="py-2 pr-3">{token.project_id ? (projectNames.get(token.project_id) ?? token.project_id.slice(0, 8)) : "every project"}</td>
      <td className="py-2 pr-3">{token.created_by}</td>
      <td className="py-2 pr-3 whitespace-nowrap">{formatTime(token.created_at)}</td>
      <td className="py-2 pr-3 whitespace-nowrap">{token.expires_at ? formatTime(token.expires_at) : "never"}</td>
      <td className="py-2 pr-3 whitespace-nowrap">{formatTime(token.last_used_at)}</td>
      <td className="py-2 pr-3">{state(token)}</td>
      <td className="py-2 text-right">
        {localAdmin && !token.revoked_at ? (
          <span className="text-xs text-slate-600 dark:text-slate-400">
            replace with <code className="font-mono">orchestra admin-token --new</code>
          </span>
        ) : null}
        {revocable ? (
          <Button variant="danger" disabled={busy} onClick={() => void revoke()} aria-label={`Revoke ${token.name}`}>
            Revoke
          </Button>
        ) : null}
        {error ? (
          <p role="alert" className="text-xs text-red-700 dark:text-red-300">
            {error}
          </p>
        ) : null}
      </td>
    </tr>
  );
}

/** API tokens for CI/CD: created (shown once), listed without their value, revoked. */
export function TokensPage() {
  const me = useMe();
  const tokens = useQuery({ ...tokensQuery(), enabled: me?.manages_tokens === true });
  const projects = useQuery(projectsQuery());
  // The one place a token's value lives, until "Done" or until the page is left (never in the query cache).
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const projectNames = new Map((projects.data?.items ?? []).map((project) => [project.id, project.name]));

  if (me && !me.manages_tokens) {
    return (
      <div className="flex flex-col gap-4">
        <h1 className="text-2xl font-semibold">API tokens</h1>
        <p>
          {me.kind === "token"
            ? "API tokens cannot manage tokens: sign in as a person, or with the local admin token."
            : "Managing tokens needs the editor role."}
        </p>
      </div>
    );
  }
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">API tokens</h1>
      {created ? <CreatedToken name={created.name} token={created.token} onDone={() => setCreated(null)} /> : null}
      {me ? <CreateToken me={me} onCreated={(name, token) => setCreated({ name, token })} /> : null}
      <Card>
        {tokens.isError ? (
          <p role="alert" className="text-red-700 dark:text-red-300">
            Could not load the tokens: {tokens.error.message}
          </p>
        ) : !tokens.data || !me ? (
          <p>Loading tokens…</p>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">API tokens, newest first</caption>
              <thead className="border-b border-slate-200 text-xs uppercase text-slate-600 dark:border-slate-700 dark:text-slate-300">
                <tr>
                  <th scope="col" className="py-2 pr-3">Name</th>
                  <th scope="col" className="py-2 pr-3">Role</th>
                  <th scope="col" className="py-2 pr-3">Project</th>
                  <th scope="col" className="py-2 pr-3">Created by</th>
                  <th scope="col" className="py-2 pr-3">Created</th>
                  <th scope="col" className="py-2 pr-3">Expires</th>
                  <th scope="col" className="py-2 pr-3">Last used</th>
                  <th scope="col" className="py-2 pr-3">State</th>
                  <th scope="col" className="py-2 text-right">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {tokens.data.items.map((token) => (
                  <TokenRow key={token.id} token={token} me={me} projectNames={projectNames} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </div>
  );
}
