import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import {
  checkSchedule,
  MISFIRE_POLICIES,
  SCHEDULE_FIELDS,
  timeZones,
  type MisfirePolicy,
  type ScheduleDraft,
} from "@/features/schedules/api/schedules";
import { environmentsQuery, suitesQuery } from "@/shared/api/projects";
import { messages } from "@/shared/forms/checks";
import { useSubmit } from "@/shared/forms/use-submit";
import { Button } from "@/shared/ui/button";
import { Field, FormMessage, inputClass } from "@/shared/ui/field";
import { CronField } from "./cron-field";

const ZONES = timeZones();

/** A schedule's fields, checked before they are sent (``send``), with the API's problems placed next to
 * the fields they name. */
export function ScheduleForm({
  project,
  initial,
  submitLabel,
  disabled = false,
  creating = false,
  send,
  onSent,
}: {
  project: string;
  initial: ScheduleDraft;
  submitLabel: string;
  disabled?: boolean;
  /** A new schedule: it may start disabled (an existing one is switched on and off by its own button). */
  creating?: boolean;
  send: (draft: ScheduleDraft) => Promise<unknown>;
  onSent: (draft: ScheduleDraft) => void;
}) {
  const suites = useQuery(suitesQuery(project));
  const environments = useQuery(environmentsQuery(project));
  const [draft, setDraft] = useState(initial);
  const { busy, errors, formError, submit } = useSubmit(SCHEDULE_FIELDS);
  const set = (patch: Partial<ScheduleDraft>) => setDraft((current) => ({ ...current, ...patch }));
  const off = disabled || busy;

  async function save(event: FormEvent) {
    event.preventDefault();
    if (await submit(messages(checkSchedule(draft)), () => send(draft))) onSent(draft);
  }

  return (
    <form onSubmit={save} noValidate className="grid gap-4 md:grid-cols-3">
      <Field label="Name" error={errors.name}>
        {(control) => <input {...control} className={inputClass} value={draft.name} disabled={off} onChange={(e) => set({ name: e.target.value })} />}
      </Field>
      <Field label="Suite" error={errors.suite}>
        {(control) => (
          <select {...control} className={inputClass} value={draft.suite} disabled={off} onChange={(e) => set({ suite: e.target.value })}>
            <option value="">Choose a suite</option>
            {suites.data?.items.map((suite) => (
              <option key={suite.id} value={suite.name}>
                {suite.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Environment" error={errors.environment}>
        {(control) => (
          <select {...control} className={inputClass} value={draft.environment} disabled={off} onChange={(e) => set({ environment: e.target.value })}>
            <option value="">Choose an environment</option>
            {environments.data?.items.map((environment) => (
              <option key={environment.id} value={environment.name}>
                {environment.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <div className="md:col-span-2">
        <CronField value={draft.cron} onChange={(cron) => set({ cron })} error={errors.cron} disabled={off} />
      </div>
      <Field label="Time zone" hint="The cron's times are read in it (IANA name)." error={errors.timezone}>
        {(control) => (
          <>
            <input
              {...control}
              list="time-zones"
              className={inputClass}
              value={draft.timezone}
              disabled={off}
              spellCheck={false}
              onChange={(e) => set({ timezone: e.target.value })}
            />
            <datalist id="time-zones">
              {ZONES.map((zone) => (
                <option key={zone} value={zone} />
              ))}
            </datalist>
          </>
        )}
      </Field>
      <Field label="Missed fire times" hint="What happens to times missed while the platform was down." error={errors.misfire_policy}>
        {(control) => (
          <select
            {...control}
            className={inputClass}
            value={draft.misfire_policy}
            disabled={off}
            onChange={(e) => set({ misfire_policy: e.target.value as MisfirePolicy })}
          >
            {MISFIRE_POLICIES.map((policy) => (
              <option key={policy.value} value={policy.value}>
                {policy.label}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Priority" hint="-1000 to 1000; empty: the schedule default (0)." error={errors.priority}>
        {(control) => (
          <input {...control} inputMode="numeric" className={inputClass} value={draft.priority} disabled={off} onChange={(e) => set({ priority: e.target.value })} />
        )}
      </Field>
      {creating ? (
        <label className="flex items-center gap-2 self-end pb-2 text-sm font-medium">
          <input type="checkbox" checked={draft.enabled} disabled={off} onChange={(e) => set({ enabled: e.target.checked })} />
          Enabled
        </label>
      ) : null}
      <Field
        label="Variables"
        className="md:col-span-3"
        hint={'Override the suite\'s variables: a JSON object, e.g. {"user": "night"}.'}
        error={errors.variables}
      >
        {(control) => (
          <textarea
            {...control}
            rows={2}
            className={`${inputClass} font-mono`}
            value={draft.variables}
            disabled={off}
            spellCheck={false}
            onChange={(e) => set({ variables: e.target.value })}
          />
        )}
      </Field>
      {disabled ? null : (
        <div className="flex flex-wrap items-center gap-3 md:col-span-3">
          <Button type="submit" disabled={busy}>
            {busy ? "Saving…" : submitLabel}
          </Button>
          <FormMessage message={formError} />
        </div>
      )}
    </form>
  );
}
