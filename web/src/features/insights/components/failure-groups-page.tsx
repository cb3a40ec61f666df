import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useEffect, useState, type FormEvent } from "react";
import {
  changeLines,
  checkIssueUrl,
  failureGroupQuery,
  failureGroupsQuery,
  GROUPS_PER_PAGE,
  linkIssue,
  MAX_ISSUE_URL,
  unlinkIssue,
  type FailureGroup,
  type FailureGroupsSearch,
} from "@/features/insights/api/failure-groups";
import { parseWindow, WINDOWS } from "@/features/insights/api/insights";
import { useHasRole } from "@/shared/auth/me";
import { formatTime } from "@/shared/lib/format";
import { Button } from "@/shared/ui/button";
import { Card } from "@/shared/ui/card";
import { Field, inputClass } from "@/shared/ui/field";
import { ProjectSelect, useProjectOrFirst } from "@/shared/ui/project-select";
import { StatusBadge } from "@/shared/ui/status-badge";
import { linkClass, mutedClass, selectClass } from "@/shared/ui/styles";

type Props = { search: FailureGroupsSearch; onSearchChange: (next: FailureGroupsSearch, replace?: boolean) => void };

function IssueForm({ group }: { group: FailureGroup }) {
  const queryClient = useQueryClient();
  const [url, setUrl] = useState(group.issue_url ?? "");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function send(event: FormEvent) {
    event.preventDefault();
    const problem = checkIssueUrl(url);
    setError(problem);
    if (problem) return;
    setBusy(true);
    try {
      await linkIssue(group.id, url);
      await queryClient.invalidateQueries({ queryKey: ["failure-groups"] });
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setBusy(false);
    }
  }
  async function unlink() {
    setBusy(true);
    setError(null);
    try {
      await unlinkIssue(group.id);
      setUrl("");
      await queryClient.invalidateQueries({ queryKey: ["failure-groups"] });
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form onSubmit={send} noValidate aria-label="Link to a known issue" className="flex flex-wrap items-end gap-3">
      <Field
        label="Known issue"
        hint="Its failures from now on are labelled with it."
        error={error ?? undefined}
        className="min-w-64 flex-1"
      >
        {(control) => (
          <input
            {...control}
            type="url"
            className={inputClass}
            maxLength={MAX_ISSUE_URL}
            placeholder="https://issues.example.com/PAY-12"
            value={url}
            onChange={(event) => setUrl(event.target.value)}
          />
        )}
      </Field>
      <Button type="submit" disabled={busy}>
        {group.issue_url ? "Change the link" : "Link the issue"}
      </Button>
      {group.issue_url ? (
        <Button variant="secondary" disabled={busy} onClick={() => void unlink()}>
          Unlink
        </Button>
      ) : null}
    </form>
  );
}

function GroupDetail({ group, project }: { group: FailureGroup; project: string }) {
  const detail = useQuery(failureGroupQuery(group.id));
  const editable = useHasRole("editor");
  if (detail.error) {
    return (
      <p role="alert" className="text-red-700 dark:text-red-300">
        Could not load the group: {detail.error.message}
      </p>
    );
  }
  if (!detail.data) return <p className={mutedClass}>Loading the group…</p>;
  const change = detail.data.first_change;
  const lines = change ? changeLines(change) : [];
  return (
    <div className="flex flex-col gap-3 text-sm">
      <section aria-label="What changed when it appeared">
        <h4 className="font-semibold">What changed when it appeared</h4>
        {!change ? (
          <p className={mutedClass}>Its first run is no longer stored.</p>
        ) : (
          <>
            <p className={mutedClass}>
              First failure{" "}
              <Link to="/runs/$runId" params={{ runId: change.first_run }} className={linkClass}>
                {formatTime(group.first_seen_at)}
              </Link>{" "}
              on {change.environment}
              {change.previous_pass ? (
                <>
                  , against the last pass before it (
                  <Link
                    to="/runs/$runId/compare"
                    params={{ runId: change.first_run }}
                    search={{ with: change.previous_pass }}
                    className={linkClass}
                  >
                    compare
                  </Link>
                  )
                </>
              ) : null}
              .
            </p>
            <ul className="list-disc pl-5">
              {(lines.length ? lines : ["Nothing that Orchestra records changed: look at the SUT."]).map((line) => (
                <li key={line} className="break-words">
                  {line}
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
      <section aria-label="Failures by test case">
        <h4 className="font-semibold">Failures by test case ({detail.data.total_failures} in all)</h4>
        <ul className="flex flex-wrap gap-x-4 gap-y-1">
          {detail.data.by_test_case.map((each) => (
            <li key={each.test_case}>
              <Link
                to="/test-cases/$project/$name"
                params={{ project, name: each.test_case }}
                search={{ tab: "results" }}
                className={linkClass}
              >
                {each.test_case}
              </Link>{" "}
              <span className={mutedClass}>× {each.failures}</span>
            </li>
          ))}
        </ul>
      </section>
      {editable ? <IssueForm group={group} /> : null}
    </div>
  );
}

function GroupRow({ group, project }: { group: FailureGroup; project: string }) {
  const [open, setOpen] = useState(false);
  const detailId = `group-${group.id}`;
  return (
    <>
      <tr className="border-t border-slate-100 align-top dark:border-slate-800">
        <th scope="row" className="max-w-md py-2 pr-3 text-left font-normal">
          <code className="block font-mono text-xs break-words whitespace-pre-wrap">{group.signature}</code>
          {group.issue_url ? (
            <a href={group.issue_url} className={`text-xs ${linkClass}`} rel="noreferrer noopener" target="_blank">
              {group.issue_url}
            </a>
          ) : null}
        </th>
        <td className="py-2 pr-3 text-right tabular-nums">{group.failures}</td>
        <td className="py-2 pr-3 text-right tabular-nums">{group.test_cases}</td>
        <td className="py-2 pr-3 whitespace-nowrap">
          <Link to="/runs/$runId" params={{ runId: group.first_run_id }} className={linkClass}>
            {formatTime(group.first_seen_at)}
          </Link>
        </td>
        <td className="py-2 pr-3 whitespace-nowrap">{formatTime(group.last_seen_at)}</td>
        <td className="py-2 pr-3">
          {group.issue_url ? (
            <StatusBadge status={`known · ${group.failures_since_issue} since`} />
          ) : (
            <span className={mutedClass}>—</span>
          )}
        </td>
        <td className="py-2 text-right">
          <Button variant="secondary" aria-expanded={open} aria-controls={detailId} onClick={() => setOpen(!open)}>
            {open ? "Hide" : "Details"}
          </Button>
        </td>
      </tr>
      {open ? (
        <tr id={detailId}>
          <td colSpan={7} className="bg-slate-50 px-3 py-3 dark:bg-slate-800/50">
            <GroupDetail group={group} project={project} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

/** A project's failures grouped by cause: how often each cause failed in the window, in how many test cases,
 * when it first appeared and what changed then, and the issue it is known as. */
export function FailureGroupsPage({ search, onSearchChange }: Props) {
  const fallback = useProjectOrFirst(undefined);
  const project = search.project ?? fallback;
  const days = search.days ?? 30;
  const page = search.page ?? 1;
  useEffect(() => {
    if (search.project === undefined && fallback !== undefined) onSearchChange({ ...search, project: fallback }, true);
  }, [search, fallback, onSearchChange]);
  const groups = useQuery({ ...failureGroupsQuery(project ?? "", days, page), enabled: project !== undefined });
  const total = groups.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / GROUPS_PER_PAGE));
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">Failure groups</h1>
      <div className="flex flex-wrap items-end gap-4">
        <ProjectSelect value={project} onChange={(next) => onSearchChange({ project: next, days })} />
        <label className="flex flex-col gap-1 text-sm font-medium">
          Window
          <select
            className={selectClass}
            value={days}
            onChange={(event) => onSearchChange({ project, days: parseWindow(event.target.value) })}
          >
            {WINDOWS.map((each) => (
              <option key={each} value={each}>
                last {each} days
              </option>
            ))}
          </select>
        </label>
      </div>
      <Card aria-label="Failure groups" aria-busy={groups.isFetching}>
        {groups.isError ? (
          <p role="alert" className="text-red-700 dark:text-red-300">
            Could not load the failure groups: {groups.error.message}
          </p>
        ) : !groups.data || project === undefined ? (
          <p className={`py-8 text-center ${mutedClass}`}>Loading failure groups…</p>
        ) : groups.data.items.length === 0 ? (
          <p className={`py-8 text-center ${mutedClass}`}>No test of this project failed in the last {days} days.</p>
        ) : (
          <table className="w-full text-left text-sm">
            <caption className="sr-only">Failure groups of {project}, the most failures first</caption>
            <thead className="border-b border-slate-200 text-xs uppercase text-slate-600 dark:border-slate-700 dark:text-slate-300">
              <tr>
                <th scope="col" className="py-2 pr-3">Cause</th>
                <th scope="col" className="py-2 pr-3 text-right">Failures</th>
                <th scope="col" className="py-2 pr-3 text-right">Test cases</th>
                <th scope="col" className="py-2 pr-3">First seen</th>
                <th scope="col" className="py-2 pr-3">Last seen</th>
                <th scope="col" className="py-2 pr-3">Known issue</th>
                <th scope="col" className="py-2">
                  <span className="sr-only">Details</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {groups.data.items.map((group) => (
                <GroupRow key={group.id} group={group} project={project} />
              ))}
            </tbody>
          </table>
        )}
        {pages > 1 ? (
          <nav aria-label="Pages" className="mt-3 flex items-center gap-3 text-sm">
            <Button variant="secondary" disabled={page <= 1} onClick={() => onSearchChange({ project, days, page: page - 1 })}>
              Previous
            </Button>
            <span>
              Page {page} of {pages}
            </span>
            <Button variant="secondary" disabled={page >= pages} onClick={() => onSearchChange({ project, days, page: page + 1 })}>
              Next
            </Button>
          </nav>
        ) : null}
      </Card>
    </div>
  );
}
