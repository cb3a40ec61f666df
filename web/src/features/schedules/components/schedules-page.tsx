import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { readCron } from "@/features/schedules/api/cron-reading";
import { createSchedule, emptySchedule, schedulesQuery } from "@/features/schedules/api/schedules";
import { hasRole, useMe } from "@/shared/auth/me";
import { formatTime } from "@/shared/lib/format";
import { Card } from "@/shared/ui/card";
import { ProjectSelect, useProjectOrFirst } from "@/shared/ui/project-select";
import { EnableSwitch } from "./enable-switch";
import { ScheduleForm } from "./schedule-form";

function reading(cron: string): string {
  const read = readCron(cron);
  return read.ok ? read.text : "";
}

/** A project's schedules: when each fires next, switched on and off here; a new one below. */
export function SchedulesPage({ project, onProjectChange }: { project?: string; onProjectChange: (name: string) => void }) {
  const current = useProjectOrFirst(project);
  const canEdit = hasRole(useMe(), "editor");
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const schedules = useQuery({ ...schedulesQuery(current ?? ""), enabled: current !== undefined });
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-2xl font-semibold">Schedules</h1>
      <ProjectSelect value={current} onChange={onProjectChange} />
      <Card>
        {schedules.isError ? (
          <p role="alert" className="text-red-700 dark:text-red-300">
            Could not load the schedules: {schedules.error.message}
          </p>
        ) : !schedules.data ? (
          <p>{current ? "Loading schedules…" : "No project yet."}</p>
        ) : schedules.data.items.length === 0 ? (
          <p className="text-slate-600 dark:text-slate-300">This project has no schedule yet.</p>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Schedules of {current}</caption>
              <thead className="border-b border-slate-200 text-xs uppercase text-slate-600 dark:border-slate-700 dark:text-slate-300">
                <tr>
                  <th scope="col" className="py-2 pr-3">Name</th>
                  <th scope="col" className="py-2 pr-3">When</th>
                  <th scope="col" className="py-2 pr-3">Runs</th>
                  <th scope="col" className="py-2 pr-3">Next fire</th>
                  <th scope="col" className="py-2 pr-3">State</th>
                </tr>
              </thead>
              <tbody>
                {schedules.data.items.map((schedule) => (
                  <tr key={schedule.id} className="border-b border-slate-100 align-top last:border-0 dark:border-slate-800">
                    <td className="py-2 pr-3">
                      <Link
                        to="/schedules/$project/$schedule"
                        params={{ project: current ?? "", schedule: schedule.name }}
                        className="font-medium text-indigo-700 hover:underline dark:text-indigo-300"
                      >
                        {schedule.name}
                      </Link>
                    </td>
                    <td className="py-2 pr-3">
                      <code className="font-mono text-xs">{schedule.cron}</code> · {schedule.timezone}
                      <div className="text-xs text-slate-600 dark:text-slate-400">{reading(schedule.cron)}</div>
                    </td>
                    <td className="py-2 pr-3">
                      {schedule.suite} on {schedule.environment}
                    </td>
                    <td className="py-2 pr-3 whitespace-nowrap">{schedule.enabled ? formatTime(schedule.next_fire_at) : "— (disabled)"}</td>
                    <td className="py-2 pr-3 whitespace-nowrap">
                      <span className="mr-2">{schedule.enabled ? "enabled" : "disabled"}</span>
                      {canEdit ? <EnableSwitch project={current ?? ""} schedule={schedule} disabled={false} /> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      {current && canEdit ? (
        <Card aria-labelledby="new-schedule">
          <h2 id="new-schedule" className="mb-3 text-lg font-semibold">
            New schedule
          </h2>
          <ScheduleForm
            key={current}
            project={current}
            initial={emptySchedule()}
            submitLabel="Create schedule"
            creating
            send={(draft) => createSchedule(current, draft)}
            onSent={(draft) => {
              void queryClient.invalidateQueries({ queryKey: ["schedules", current] });
              void navigate({ to: "/schedules/$project/$schedule", params: { project: current, schedule: draft.name } });
            }}
          />
        </Card>
      ) : null}
    </div>
  );
}
