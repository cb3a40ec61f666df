import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { useState, type FormEvent } from "react";
import {
  checkEnvironment,
  deleteEnvironment,
  draftOf,
  ENVIRONMENT_FIELDS,
  environmentQuery,
  MAX_ACTIVE_RUNS,
  MAX_HOSTS,
  patchOf,
  updateEnvironment,
  type Environment,
  type EnvironmentDraft,
} from "@/features/environments/api/environments";
import { hasRole, useMe } from "@/shared/auth/me";
import { messages } from "@/shared/forms/checks";
import { useSubmit } from "@/shared/forms/use-submit";
import { formatTime } from "@/shared/lib/format";
import { Button } from "@/shared/ui/button";
import { Card } from "@/shared/ui/card";
import { Field, FormMessage, inputClass } from "@/shared/ui/field";
import { LedgerSection } from "./ledger-section";
import { OpenApiSection } from "./openapi-section";
import { SecretsEditor } from "./secrets-editor";

function Form({ project, environment }: { project: string; environment: Environment }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const canEdit = hasRole(useMe(), "editor");
  const [draft, setDraft] = useState<EnvironmentDraft>(() => draftOf(environment));
  const [saved, setSaved] = useState<string | null>(null);
  const { busy, errors, formError, submit, setFormError } = useSubmit(ENVIRONMENT_FIELDS);
  const set = (patch: Partial<EnvironmentDraft>) => {
    setSaved(null);
    setDraft((current) => ({ ...current, ...patch }));
  };
  const disabled = busy || !canEdit;

  async function save(event: FormEvent) {
    event.preventDefault();
    let updated: Environment | undefined;
    const ok = await submit(messages(checkEnvironment(draft)), async () => {
      updated = await updateEnvironment(project, environment.name, patchOf(draft));
    });
    if (!ok || !updated) return;
    setDraft(draftOf(updated)); // the secret values typed are dropped here
    setSaved(`Saved at ${formatTime(updated.updated_at)}.`);
    await queryClient.invalidateQueries({ queryKey: ["environments", project] });
    if (updated.name !== environment.name) {
      void navigate({ to: "/environments/$project/$environment", params: { project, environment: updated.name } });
    }
  }

  async function remove() {
    if (!window.confirm(`Delete environment '${environment.name}'?`)) return;
    try {
      await deleteEnvironment(project, environment.name);
      await queryClient.invalidateQueries({ queryKey: ["environments", project] });
      void navigate({ to: "/environments", search: { project } });
    } catch (error) {
      setFormError((error as Error).message);
    }
  }

  return (
    <form onSubmit={save} noValidate className="flex flex-col gap-4" aria-label={`Environment ${environment.name}`}>
      <Card className="grid gap-4 md:grid-cols-2">
        <Field label="Name" error={errors.name}>
          {(control) => (
            <input {...control} className={inputClass} value={draft.name} disabled={disabled} onChange={(e) => set({ name: e.target.value })} />
          )}
        </Field>
        <Field label="Base URL" hint="Where the SUT answers; tests reach it as {{ env.base_url }}." error={errors.base_url}>
          {(control) => (
            <input
              {...control}
              className={`${inputClass} font-mono`}
              value={draft.base_url}
              disabled={disabled}
              spellCheck={false}
              onChange={(e) => set({ base_url: e.target.value })}
            />
          )}
        </Field>
        <Field
          label="Variables"
          className="md:col-span-2"
          hint='A JSON object; tests read them as {{ env.<name> }}. E.g. {"user": "demo"}.'
          error={errors.variables}
        >
          {(control) => (
            <textarea
              {...control}
              rows={4}
              className={`${inputClass} font-mono`}
              value={draft.variables}
              disabled={disabled}
              spellCheck={false}
              onChange={(e) => set({ variables: e.target.value })}
            />
          )}
        </Field>
      </Card>
      <Card>
        <SecretsEditor secrets={draft.secrets} onChange={(secrets) => set({ secrets })} disabled={disabled} />
        {errors.secrets ? <p className="mt-2 text-xs font-medium text-red-700 dark:text-red-300">{errors.secrets}</p> : null}
      </Card>
      <Card className="grid gap-4 md:grid-cols-2">
        <h2 className="text-lg font-semibold md:col-span-2">Where runs may send requests</h2>
        <Field
          label="Allowed hosts"
          hint={`Besides the base URL's host: one per line, exact names, IP addresses or *.example.com (at most ${MAX_HOSTS}).`}
          error={errors.allowed_hosts}
        >
          {(control) => (
            <textarea
              {...control}
              rows={3}
              className={`${inputClass} font-mono`}
              value={draft.allowed_hosts}
              disabled={disabled}
              spellCheck={false}
              onChange={(e) => set({ allowed_hosts: e.target.value })}
            />
          )}
        </Field>
        <div className="flex flex-col gap-3 text-sm">
          <label className="flex items-start gap-2">
            <input
              type="checkbox"
              className="mt-1"
              checked={draft.allow_private_network}
              disabled={disabled}
              onChange={(e) => set({ allow_private_network: e.target.checked })}
            />
            <span>
              <span className="font-medium">Allow private networks</span>
              <span className="block text-xs text-slate-600 dark:text-slate-400">
                Loopback and private addresses (127/8, 10/8, 172.16/12, 192.168/16, 100.64/10, ::1, fc00::/7). Link-local and
                cloud metadata addresses are never allowed.
              </span>
            </span>
          </label>
          <label className="flex items-start gap-2">
            <input
              type="checkbox"
              className="mt-1"
              checked={draft.idempotency_keys}
              disabled={disabled}
              onChange={(e) => set({ idempotency_keys: e.target.checked })}
            />
            <span>
              <span className="font-medium">Send Idempotency-Key headers</span>
              <span className="block text-xs text-slate-600 dark:text-slate-400">
                The same on every attempt of a step, so the SUT can de-duplicate a step run twice.
              </span>
            </span>
          </label>
        </div>
      </Card>
      <Card className="grid gap-4 md:grid-cols-2">
        <h2 className="text-lg font-semibold md:col-span-2">Limits</h2>
        <Field
          label="Most active runs"
          hint={`Runs queued or in progress at once against this SUT (1 to ${MAX_ACTIVE_RUNS.toLocaleString("en")}); empty: no limit.`}
          error={errors.max_active_runs}
        >
          {(control) => (
            <input
              {...control}
              inputMode="numeric"
              className={inputClass}
              value={draft.max_active_runs}
              disabled={disabled}
              onChange={(e) => set({ max_active_runs: e.target.value })}
            />
          )}
        </Field>
        <Field
          label="Most requests per second"
          hint="Across every executor (0.5: one every two seconds); empty: no limit."
          error={errors.max_requests_per_s}
        >
          {(control) => (
            <input
              {...control}
              inputMode="decimal"
              className={inputClass}
              value={draft.max_requests_per_s}
              disabled={disabled}
              onChange={(e) => set({ max_requests_per_s: e.target.value })}
            />
          )}
        </Field>
      </Card>
      <FormMessage message={formError} />
      <FormMessage message={saved} tone="ok" />
      {canEdit ? (
        <div className="flex items-center gap-2">
          <Button type="submit" disabled={busy}>
            {busy ? "Saving…" : "Save"}
          </Button>
          <Button variant="secondary" disabled={busy} onClick={() => setDraft(draftOf(environment))}>
            Undo changes
          </Button>
          <Button variant="danger" className="ml-auto" disabled={busy} onClick={() => void remove()}>
            Delete environment
          </Button>
        </div>
      ) : (
        <p className="text-sm text-slate-600 dark:text-slate-300">You can read this environment; changing it needs the editor role.</p>
      )}
    </form>
  );
}

/** One environment, every setting in one form (PATCH): secrets write-only, egress, limits. */
export function EnvironmentEditor({ project, name }: { project: string; name: string }) {
  const environment = useQuery(environmentQuery(project, name));
  const canEdit = hasRole(useMe(), "editor");
  return (
    <div className="flex flex-col gap-4">
      <Link to="/environments" search={{ project }} className="text-sm text-indigo-700 hover:underline dark:text-indigo-300">
        ← Environments of {project}
      </Link>
      <h1 className="text-2xl font-semibold break-all">{name}</h1>
      {environment.isError ? (
        <p role="alert" className="text-red-700 dark:text-red-300">
          Could not load the environment: {environment.error.message}
        </p>
      ) : environment.data ? (
        <>
          <Form key={environment.data.id} project={project} environment={environment.data} />
          <OpenApiSection project={project} environment={environment.data.name} canEdit={canEdit} />
          <LedgerSection project={project} environment={environment.data.name} canEdit={canEdit} />
        </>
      ) : (
        <p>Loading the environment…</p>
      )}
    </div>
  );
}
