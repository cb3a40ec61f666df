import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import {
  checkActiveRuns,
  checkWeight,
  MAX_WEIGHT,
  platformLimitsQuery,
  setPlatformLimit,
  setProjectLimit,
  tenantQuery,
  updateTenant,
} from "@/features/limits/api/limits";
import { projectsQuery, type Project } from "@/shared/api/projects";
import { hasRole, useMe } from "@/shared/auth/me";
import { messages } from "@/shared/forms/checks";
import { useSubmit } from "@/shared/forms/use-submit";
import { Button } from "@/shared/ui/button";
import { Card } from "@/shared/ui/card";
import { Field, FormMessage, inputClass } from "@/shared/ui/field";

const RUN_FIELDS = ["max_active_runs"] as const;
const TENANT_FIELDS = ["weight", "max_active_runs"] as const;

function PlatformLimit({ editable }: { editable: boolean }) {
  const limits = useQuery(platformLimitsQuery());
  const queryClient = useQueryClient();
  const [value, setValue] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const { busy, errors, formError, submit } = useSubmit(RUN_FIELDS);
  const shown = value ?? limits.data?.configured?.toString() ?? "";

  async function save(event: FormEvent) {
    event.preventDefault();
    setSaved(null);
    if (await submit(messages({ max_active_runs: checkActiveRuns(shown) }), () => setPlatformLimit(shown))) {
      setValue(null);
      setSaved("Saved.");
      await queryClient.invalidateQueries({ queryKey: ["limits"] });
    }
  }
  return (
    <Card aria-labelledby="platform-limit">
      <h2 id="platform-limit" className="text-lg font-semibold">
        Platform
      </h2>
      <p className="mb-3 text-sm text-slate-600 dark:text-slate-300">
        In force: <strong>{limits.data?.max_active_runs ?? "…"}</strong> runs queued or in progress at once, across every tenant
        {limits.data ? ` (default ${limits.data.default})` : ""}.
      </p>
      <form onSubmit={save} noValidate className="flex flex-wrap items-start gap-3">
        <Field label="Most active runs" hint="Empty: the default." error={errors.max_active_runs}>
          {(control) => (
            <input
              {...control}
              inputMode="numeric"
              className={inputClass}
              placeholder={limits.data ? `${limits.data.default} (the default)` : undefined}
              value={shown}
              disabled={!editable || busy}
              onChange={(e) => setValue(e.target.value)}
            />
          )}
        </Field>
        {editable ? (
          <Button type="submit" className="mt-6" disabled={busy}>
            Save
          </Button>
        ) : null}
      </form>
      <FormMessage message={formError} />
      <FormMessage message={saved} tone="ok" />
    </Card>
  );
}

function TenantLimits({ editable }: { editable: boolean }) {
  const tenant = useQuery(tenantQuery());
  const queryClient = useQueryClient();
  const [weight, setWeight] = useState<string | null>(null);
  const [cap, setCap] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const { busy, errors, formError, submit } = useSubmit(TENANT_FIELDS);
  const shownWeight = weight ?? tenant.data?.weight.toString() ?? "";
  const shownCap = cap ?? tenant.data?.max_active_runs?.toString() ?? "";

  async function save(event: FormEvent) {
    event.preventDefault();
    setSaved(null);
    const checked = messages({ weight: checkWeight(shownWeight), max_active_runs: checkActiveRuns(shownCap) });
    if (await submit(checked, () => updateTenant(shownWeight, shownCap))) {
      setWeight(null);
      setCap(null);
      setSaved("Saved.");
      await queryClient.invalidateQueries({ queryKey: ["limits"] });
    }
  }
  return (
    <Card aria-labelledby="tenant-limits">
      <h2 id="tenant-limits" className="text-lg font-semibold">
        Tenant {tenant.data ? `“${tenant.data.name}”` : ""}
      </h2>
      <p className="mb-3 text-sm text-slate-600 dark:text-slate-300">
        The weight is this tenant's share of the platform when it is full, relative to the other tenants with waiting runs.
      </p>
      <form onSubmit={save} noValidate className="flex flex-wrap items-start gap-3">
        <Field label="Weight" hint={`1 to ${MAX_WEIGHT}; the default is 1.`} error={errors.weight}>
          {(control) => (
            <input {...control} inputMode="numeric" className={inputClass} value={shownWeight} disabled={!editable || busy} onChange={(e) => setWeight(e.target.value)} />
          )}
        </Field>
        <Field label="Most active runs" hint="Empty: no limit for the tenant." error={errors.max_active_runs}>
          {(control) => (
            <input {...control} inputMode="numeric" className={inputClass} value={shownCap} disabled={!editable || busy} onChange={(e) => setCap(e.target.value)} />
          )}
        </Field>
        {editable ? (
          <Button type="submit" className="mt-6" disabled={busy}>
            Save
          </Button>
        ) : null}
      </form>
      <FormMessage message={formError} />
      <FormMessage message={saved} tone="ok" />
    </Card>
  );
}

function ProjectLimit({ project, editable }: { project: Project; editable: boolean }) {
  const queryClient = useQueryClient();
  const [value, setValue] = useState(project.max_active_runs?.toString() ?? "");
  const [saved, setSaved] = useState(false);
  const { busy, errors, formError, submit } = useSubmit(RUN_FIELDS);
  async function save(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    if (await submit(messages({ max_active_runs: checkActiveRuns(value) }), () => setProjectLimit(project.name, value))) {
      setSaved(true);
      await queryClient.invalidateQueries({ queryKey: ["projects"] });
    }
  }
  return (
    <li>
      <form onSubmit={save} noValidate className="flex flex-wrap items-start gap-3">
        <Field label={`Most active runs of ${project.name}`} error={errors.max_active_runs ?? formError ?? undefined}>
          {(control) => (
            <input {...control} inputMode="numeric" className={inputClass} value={value} disabled={!editable || busy} onChange={(e) => setValue(e.target.value)} />
          )}
        </Field>
        {editable ? (
          <Button type="submit" variant="secondary" className="mt-6" disabled={busy} aria-label={`Save the limit of ${project.name}`}>
            Save
          </Button>
        ) : null}
        {saved ? (
          <span role="status" className="mt-7 text-sm text-emerald-800 dark:text-emerald-200">
            Saved.
          </span>
        ) : null}
      </form>
    </li>
  );
}

/** Limits on active runs at every level but the environment's (on its own screen), and the tenant's weight. */
export function LimitsPage() {
  const me = useMe();
  const projects = useQuery(projectsQuery());
  const platform = me?.platform_admin === true;
  const admin = hasRole(me, "admin");
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">Limits</h1>
      <p className="text-sm text-slate-600 dark:text-slate-300">
        A run leaves the queue only while every limit that applies to it has room. Environments have their own limits and request
        rate, on their screen.
        {platform ? "" : " Changing the platform and tenant limits needs a platform admin; a project's, an admin."}
      </p>
      <div className="grid gap-4 md:grid-cols-2">
        <PlatformLimit editable={platform} />
        <TenantLimits editable={platform} />
      </div>
      <Card aria-labelledby="project-limits">
        <h2 id="project-limits" className="mb-1 text-lg font-semibold">
          Projects
        </h2>
        <p className="mb-3 text-sm text-slate-600 dark:text-slate-300">Empty: no limit for the project.</p>
        <ul className="flex flex-col gap-3">
          {projects.data?.items.map((project) => (
            <ProjectLimit key={`${project.id}-${project.updated_at}`} project={project} editable={admin} />
          ))}
        </ul>
      </Card>
    </div>
  );
}
