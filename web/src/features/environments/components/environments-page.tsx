import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { useState, type FormEvent } from "react";
import { checkBaseUrl, createEnvironment } from "@/features/environments/api/environments";
import { environmentsQuery } from "@/shared/api/projects";
import { hasRole, useMe } from "@/shared/auth/me";
import { checkName, messages } from "@/shared/forms/checks";
import { useSubmit } from "@/shared/forms/use-submit";
import { Button } from "@/shared/ui/button";
import { Card } from "@/shared/ui/card";
import { Field, FormMessage, inputClass } from "@/shared/ui/field";
import { ProjectSelect, useProjectOrFirst } from "@/shared/ui/project-select";

const CREATE_FIELDS = ["name", "base_url"] as const;

function CreateEnvironment({ project }: { project: string }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [baseUrl, setBaseUrl] = useState("");
  const [privateNetwork, setPrivateNetwork] = useState(false);
  const { busy, errors, formError, submit } = useSubmit(CREATE_FIELDS);

  async function create(event: FormEvent) {
    event.preventDefault();
    const checked = messages({ name: checkName(name, "environment name"), base_url: checkBaseUrl(baseUrl) });
    const ok = await submit(checked, () =>
      createEnvironment(project, { name, base_url: baseUrl, allow_private_network: privateNetwork, idempotency_keys: true }),
    );
    if (!ok) return;
    await queryClient.invalidateQueries({ queryKey: ["environments", project] });
    void navigate({ to: "/environments/$project/$environment", params: { project, environment: name } });
  }

  return (
    <Card aria-labelledby="new-environment">
      <h2 id="new-environment" className="mb-3 text-lg font-semibold">
        New environment
      </h2>
      <form onSubmit={create} noValidate className="flex flex-wrap items-start gap-4">
        <Field label="Name" error={errors.name}>
          {(control) => <input {...control} className={inputClass} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <Field label="Base URL" error={errors.base_url} className="min-w-72 flex-1">
          {(control) => (
            <input
              {...control}
              className={`${inputClass} font-mono`}
              placeholder="http://localhost:8080"
              spellCheck={false}
              value={baseUrl}
              onChange={(e) => setBaseUrl(e.target.value)}
            />
          )}
        </Field>
        <label className="mt-7 flex items-center gap-2 text-sm">
          <input type="checkbox" checked={privateNetwork} onChange={(e) => setPrivateNetwork(e.target.checked)} />
          Allow private networks
        </label>
        <Button type="submit" className="mt-6" disabled={busy}>
          {busy ? "Creating…" : "Create"}
        </Button>
      </form>
      <div className="mt-2">
        <FormMessage message={formError} />
      </div>
    </Card>
  );
}

/** The environments of a project: where its tests run. */
export function EnvironmentsPage({ project, onProjectChange }: { project?: string; onProjectChange: (name: string) => void }) {
  const current = useProjectOrFirst(project);
  const canEdit = hasRole(useMe(), "editor");
  const environments = useQuery({ ...environmentsQuery(current ?? ""), enabled: current !== undefined });
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">Environments</h1>
      <ProjectSelect value={current} onChange={onProjectChange} />
      <Card>
        {environments.isError ? (
          <p role="alert" className="text-red-700 dark:text-red-300">
            Could not load the environments: {environments.error.message}
          </p>
        ) : !environments.data ? (
          <p>{current ? "Loading environments…" : "No project yet."}</p>
        ) : environments.data.items.length === 0 ? (
          <p className="text-slate-600 dark:text-slate-300">This project has no environment yet.</p>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Environments of {current}</caption>
              <thead className="border-b border-slate-200 text-xs uppercase text-slate-600 dark:border-slate-700 dark:text-slate-300">
                <tr>
                  <th scope="col" className="py-2 pr-3">Name</th>
                  <th scope="col" className="py-2 pr-3">Base URL</th>
                  <th scope="col" className="py-2 pr-3">Secrets</th>
                  <th scope="col" className="py-2 pr-3">Private networks</th>
                  <th scope="col" className="py-2 pr-3">Limits</th>
                </tr>
              </thead>
              <tbody>
                {environments.data.items.map((environment) => (
                  <tr key={environment.id} className="border-b border-slate-100 last:border-0 dark:border-slate-800">
                    <td className="py-2 pr-3">
                      <Link
                        to="/environments/$project/$environment"
                        params={{ project: current ?? "", environment: environment.name }}
                        className="font-medium text-indigo-700 hover:underline dark:text-indigo-300"
                      >
                        {environment.name}
                      </Link>
                    </td>
                    <td className="py-2 pr-3 font-mono text-xs break-all">{environment.base_url}</td>
                    <td className="py-2 pr-3">{environment.secret_names.join(", ") || "—"}</td>
                    <td className="py-2 pr-3">{environment.allow_private_network ? "allowed" : "no"}</td>
                    <td className="py-2 pr-3 text-xs">
                      {environment.max_active_runs ? `${environment.max_active_runs} runs` : "no run limit"}
                      {" · "}
                      {environment.max_requests_per_s ? `${environment.max_requests_per_s} req/s` : "no rate limit"}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      {current && canEdit ? <CreateEnvironment project={current} /> : null}
    </div>
  );
}
