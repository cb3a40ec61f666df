import { TRIGGERS, type SuiteRunsSearch } from "@/features/runs/api/suite-runs";
import { CreatedWindow, ProjectSelect, selectClass, StatusSelect, TextFilter } from "./list-filters";

type Props = { search: SuiteRunsSearch; onChange: (next: SuiteRunsSearch) => void };

/** Status, project, environment, suite, trigger, name and creation-time filters; a change goes back to the
 * first page. */
export function SuiteRunsFilters({ search, onChange }: Props) {
  const change = (next: Partial<SuiteRunsSearch>) => onChange({ ...search, ...next, page: 1 });
  return (
    <form role="search" aria-label="Filter suite runs" className="flex flex-wrap items-end gap-4" onSubmit={(e) => e.preventDefault()}>
      <StatusSelect value={search.status} onChange={(status) => change({ status })} />
      <ProjectSelect value={search.project} onChange={(project) => change({ project })} />
      <TextFilter
        label="Environment"
        placeholder="Any environment"
        value={search.environment}
        onCommit={(environment) => change({ environment })}
      />
      <TextFilter label="Suite" placeholder="Any suite" value={search.suite} onCommit={(suite) => change({ suite })} />
      <label className="flex flex-col gap-1 text-sm font-medium">
        Trigger
        <select
          className={selectClass}
          value={search.trigger ?? ""}
          onChange={(e) => change({ trigger: (e.target.value || undefined) as SuiteRunsSearch["trigger"] })}
        >
          <option value="">Any trigger</option>
          {TRIGGERS.map((trigger) => (
            <option key={trigger} value={trigger}>
              {trigger}
            </option>
          ))}
        </select>
      </label>
      <TextFilter label="Name contains" placeholder="Any name" value={search.q} onCommit={(q) => change({ q })} />
      <CreatedWindow after={search.after} before={search.before} onChange={change} />
    </form>
  );
}
