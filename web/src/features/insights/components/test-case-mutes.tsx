import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import {
  checkMute,
  createMute,
  defaultExpiry,
  deleteMute,
  MAX_REASON,
  MUTE_FIELDS,
  mutesQuery,
  type Mute,
  type MuteDraft,
} from "@/features/insights/api/mutes";
import { environmentsQuery } from "@/shared/api/projects";
import { useHasRole } from "@/shared/auth/me";
import { messages } from "@/shared/forms/checks";
import { useSubmit } from "@/shared/forms/use-submit";
import { formatTime } from "@/shared/lib/format";
import { Button } from "@/shared/ui/button";
import { Card } from "@/shared/ui/card";
import { Field, FormMessage, inputClass } from "@/shared/ui/field";
import { StatusBadge } from "@/shared/ui/status-badge";
import { mutedClass } from "@/shared/ui/styles";

type Props = { project: string; testCase: string };

function NewMute({ project, testCase, environments }: Props & { environments: string[] }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<MuteDraft>(() => ({ environment: "", reason: "", expires: defaultExpiry() }));
  const { busy, errors, formError, submit } = useSubmit(MUTE_FIELDS);

  async function create(event: FormEvent) {
    event.preventDefault();
    const ok = await submit(messages(checkMute(draft)), () => createMute(project, testCase, draft));
    if (!ok) return;
    setDraft({ environment: "", reason: "", expires: defaultExpiry() });
    await queryClient.invalidateQueries({ queryKey: ["mutes", project, testCase] });
  }

  return (
    <form onSubmit={create} noValidate aria-label="New mute" className="grid gap-3 md:grid-cols-[12rem_1fr_11rem]">
      <Field label="Environment" error={errors.environment}>
        {(control) => (
          <select
            {...control}
            className={inputClass}
            value={draft.environment}
            onChange={(event) => setDraft({ ...draft, environment: event.target.value })}
          >
            <option value="">Choose one</option>
            {environments.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Reason" hint="Shown in every report of its muted failures." error={errors.reason}>
        {(control) => (
          <input
            {...control}
            className={inputClass}
            maxLength={MAX_REASON}
            value={draft.reason}
            placeholder="PAY-12: the sandbox drops 1 call in 20"
            onChange={(event) => setDraft({ ...draft, reason: event.target.value })}
          />
        )}
      </Field>
      <Field label="Until" hint="The end of that day (UTC)." error={errors.expires_at}>
        {(control) => (
          <input
            {...control}
            type="date"
            className={inputClass}
            value={draft.expires}
            onChange={(event) => setDraft({ ...draft, expires: event.target.value })}
          />
        )}
      </Field>
      <div className="flex items-center gap-3 md:col-span-3">
        <Button type="submit" disabled={busy}>
          {busy ? "Muting…" : "Mute"}
        </Button>
        <FormMessage message={formError} />
      </div>
    </form>
  );
}

function MuteRow({ mute, project, editable }: { mute: Mute; project: string; editable: boolean }) {
  const queryClient = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function remove() {
    if (!window.confirm(`Unmute '${mute.test_case}' on ${mute.environment}? Its failures fail runs again from now on.`)) return;
    setBusy(true);
    setError(null);
    try {
      await deleteMute(project, mute.id);
      await queryClient.invalidateQueries({ queryKey: ["mutes", project, mute.test_case] });
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <tr className="border-t border-slate-100 align-top dark:border-slate-800">
      <th scope="row" className="py-1.5 pr-3 font-medium">{mute.environment}</th>
      <td className="py-1.5 pr-3 break-words">{mute.reason}</td>
      <td className="py-1.5 pr-3 whitespace-nowrap">{formatTime(mute.expires_at)}</td>
      <td className="py-1.5 pr-3">
        <StatusBadge status={mute.active ? "muted" : "expired"} />
      </td>
      <td className="py-1.5 pr-3">{mute.created_by}</td>
      <td className="py-1.5 text-right">
        {editable ? (
          <Button variant="danger" disabled={busy} onClick={() => void remove()} aria-label={`Unmute on ${mute.environment}`}>
            {busy ? "Unmuting…" : "Unmute"}
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

/** The test case's mutes per environment: a muted failure still runs and is recorded, but fails no suite run
 * and no CLI run until the mute ends. Editors add and remove them here. */
export function TestCaseMutes({ project, testCase }: Props) {
  const mutes = useQuery(mutesQuery(project, testCase));
  const environments = useQuery(environmentsQuery(project));
  const editable = useHasRole("editor");
  const items = mutes.data?.items ?? [];
  return (
    <Card aria-labelledby="mutes-title" className="flex flex-col gap-3">
      <div>
        <h3 id="mutes-title" className="font-semibold">
          Mutes
        </h3>
        <p className={`text-sm ${mutedClass}`}>
          A muted test still runs and is recorded; its failures fail no suite run and no CLI run on that environment
          until the mute ends.
        </p>
      </div>
      {mutes.error ? (
        <p role="alert" className="text-red-700 dark:text-red-300">
          Could not load the mutes: {mutes.error.message}
        </p>
      ) : mutes.data && items.length === 0 ? (
        <p className={`text-sm ${mutedClass}`}>Not muted on any environment.</p>
      ) : (
        <table className="w-full text-left text-sm">
          <thead className="text-xs uppercase text-slate-600 dark:text-slate-300">
            <tr>
              <th scope="col" className="py-1 pr-3">Environment</th>
              <th scope="col" className="py-1 pr-3">Reason</th>
              <th scope="col" className="py-1 pr-3">Until</th>
              <th scope="col" className="py-1 pr-3">State</th>
              <th scope="col" className="py-1 pr-3">By</th>
              <th scope="col" className="py-1">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((mute) => (
              <MuteRow key={mute.id} mute={mute} project={project} editable={editable} />
            ))}
          </tbody>
        </table>
      )}
      {editable ? (
        <NewMute
          project={project}
          testCase={testCase}
          environments={(environments.data?.items ?? []).map((environment) => environment.name)}
        />
      ) : null}
    </Card>
  );
}
