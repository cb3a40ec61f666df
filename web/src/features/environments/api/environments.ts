import { queryOptions } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/shared/api/client";
import { checkInteger, checkName, checkRate, optionalNumber, parseJsonObject } from "@/shared/forms/checks";

export type Environment = Schemas["EnvironmentOut"];
type EnvironmentUpdate = Schemas["EnvironmentUpdate"];

export const MAX_KEYS = 200;
export const MAX_HOSTS = 100;
export const MAX_ACTIVE_RUNS = 100_000;
export const MAX_REQUESTS_PER_S = 100_000;

export const environmentQuery = (project: string, environment: string) =>
  queryOptions({
    queryKey: ["environments", project, environment],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/projects/{project}/environments/{environment}", { params: { path: { project, environment } } }),
      ),
  });

/** A secret as the form edits it: a stored one (its value never known here) or a new one. ``value`` empty
 * keeps a stored secret as it is. */
export type SecretEdit = { name: string; value: string; stored: boolean; remove: boolean };

/** What the form holds: text as typed, checked before it is sent. */
export type EnvironmentDraft = {
  name: string;
  base_url: string;
  variables: string;
  secrets: SecretEdit[];
  allowed_hosts: string;
  allow_private_network: boolean;
  idempotency_keys: boolean;
  max_active_runs: string;
  max_requests_per_s: string;
};

export const ENVIRONMENT_FIELDS = [
  "name",
  "base_url",
  "variables",
  "secrets",
  "allowed_hosts",
  "max_active_runs",
  "max_requests_per_s",
] as const;
export type EnvironmentField = (typeof ENVIRONMENT_FIELDS)[number];

export function draftOf(environment: Environment): EnvironmentDraft {
  return {
    name: environment.name,
    base_url: environment.base_url,
    variables: Object.keys(environment.variables).length ? JSON.stringify(environment.variables, null, 2) : "",
    secrets: environment.secret_names.map((name) => ({ name, value: "", stored: true, remove: false })),
    allowed_hosts: environment.allowed_hosts.join("\n"),
    allow_private_network: environment.allow_private_network,
    idempotency_keys: environment.idempotency_keys,
    max_active_runs: environment.max_active_runs?.toString() ?? "",
    max_requests_per_s: environment.max_requests_per_s?.toString() ?? "",
  };
}

export function checkBaseUrl(value: string): string | null {
  if (!value.trim()) return "Give the SUT's base URL, e.g. http://localhost:8080.";
  if (/\s/.test(value)) return "No spaces in a URL.";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "Not a URL: give an absolute http:// or https:// URL, e.g. http://localhost:8080.";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "Only http:// and https:// URLs.";
  if (url.username || url.password) return "No credentials in the URL: keep them in secrets.";
  if (url.search || url.hash || /[?#]$/.test(value)) return "No query or fragment: the base URL is joined with paths.";
  return null;
}

export function hostsOf(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((host) => host.trim())
    .filter(Boolean);
}

function checkHosts(text: string): string | null {
  const hosts = hostsOf(text);
  if (hosts.length > MAX_HOSTS) return `At most ${MAX_HOSTS} hosts.`;
  const bad = hosts.find((host) => /[/@?#]/.test(host) || (/:/.test(host) && !/^\[?[0-9a-f:.]+\]?$/i.test(host)));
  return bad ? `'${bad}': a host name only, without scheme, port or path (e.g. api.example.com).` : null;
}

function checkVariables(text: string): string | null {
  const parsed = parseJsonObject(text, MAX_KEYS);
  if ("error" in parsed) return parsed.error;
  return "base_url" in parsed.value ? "'base_url' is reserved: it is the environment's base URL." : null;
}

function checkSecrets(secrets: SecretEdit[]): string | null {
  const named = secrets.filter((secret) => !secret.stored && (secret.name || secret.value));
  if (named.some((secret) => !secret.name.trim())) return "Every new secret needs a name.";
  if (named.some((secret) => secret.name.length > 200)) return "A secret's name has at most 200 characters.";
  if (named.some((secret) => !secret.value)) return "Every new secret needs a value.";
  const names = secrets.filter((secret) => !secret.remove && (secret.stored || secret.name)).map((s) => s.name.trim());
  if (new Set(names).size !== names.length) return "Two secrets have the same name.";
  if (names.length > MAX_KEYS) return `At most ${MAX_KEYS} secrets.`;
  if (secrets.some((secret) => secret.value.length > 10_000)) return "A secret's value has at most 10,000 characters.";
  return null;
}

/** Every field's problem (null: fine), before anything is sent. */
export function checkEnvironment(draft: EnvironmentDraft): Record<EnvironmentField, string | null> {
  return {
    name: checkName(draft.name, "environment name"),
    base_url: checkBaseUrl(draft.base_url),
    variables: checkVariables(draft.variables),
    secrets: checkSecrets(draft.secrets),
    allowed_hosts: checkHosts(draft.allowed_hosts),
    max_active_runs: checkInteger(draft.max_active_runs, 1, MAX_ACTIVE_RUNS),
    max_requests_per_s: checkRate(draft.max_requests_per_s, MAX_REQUESTS_PER_S),
  };
}

/** The PATCH of a checked draft: every field, and of the secrets only the changes (a new value, or null to
 * remove one); stored secrets left empty are not sent, so they are kept. */
export function patchOf(draft: EnvironmentDraft): EnvironmentUpdate {
  const secrets: Record<string, string | null> = {};
  for (const secret of draft.secrets) {
    const name = secret.name.trim();
    if (secret.stored && secret.remove) secrets[name] = null;
    else if (secret.value) secrets[name] = secret.value;
  }
  const variables = parseJsonObject(draft.variables, MAX_KEYS);
  return {
    name: draft.name,
    base_url: draft.base_url,
    variables: "value" in variables ? (variables.value as EnvironmentUpdate["variables"]) : {},
    secrets,
    allowed_hosts: hostsOf(draft.allowed_hosts),
    allow_private_network: draft.allow_private_network,
    idempotency_keys: draft.idempotency_keys,
    max_active_runs: optionalNumber(draft.max_active_runs),
    max_requests_per_s: optionalNumber(draft.max_requests_per_s),
  };
}

export function updateEnvironment(project: string, environment: string, body: EnvironmentUpdate) {
  return unwrap(
    api.PATCH("/api/v1/projects/{project}/environments/{environment}", {
      params: { path: { project, environment } },
      body,
    }),
  );
}

export function createEnvironment(project: string, body: Schemas["EnvironmentCreate"]) {
  return unwrap(api.POST("/api/v1/projects/{project}/environments", { params: { path: { project } }, body }));
}

export function deleteEnvironment(project: string, environment: string) {
  return unwrap(
    api.DELETE("/api/v1/projects/{project}/environments/{environment}", { params: { path: { project, environment } } }),
  );
}
